import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Where an adapter module was found. */
export interface ResolvedAdapterModule {
  /** file: URL to import(). */
  readonly url: string;
  readonly file: string;
  /** From the package.json that owns the module, when there is one. */
  readonly packageName?: string;
  readonly packageVersion?: string;
}

export type AdapterResolution = { readonly found: true; readonly module: ResolvedAdapterModule } | { readonly found: false; readonly searched: readonly string[] };

const KERNEL_DIR = dirname(fileURLToPath(import.meta.url));
// `require` last: a CommonJS-only package (module.exports or exports.default = descriptor) loads too.
const CONDITIONS = ['import', 'node', 'default', 'require'];

/**
 * Finds an adapter named in config. The one documented rule: a `use:` value starting with `.`
 * or `/` is a path relative to the config file's folder; anything else is a package name, looked up
 * in `node_modules` folders from the config file's folder upwards, then from the kernel's own
 * installation upwards (so adapters installed beside a global `gitops-reverser` are found too).
 * Pure file-system logic: no module is loaded here.
 */
export function resolveAdapter(use: string, baseDir: string): AdapterResolution {
  if (use.startsWith('.') || isAbsolute(use)) {
    const target = resolve(baseDir, use);
    const file = resolveFileOrDirectory(target);
    return file ? { found: true, module: describe(file) } : { found: false, searched: [target] };
  }
  const { packageName, subpath } = splitSpecifier(use);
  const searched: string[] = [];
  for (const start of [baseDir, KERNEL_DIR]) {
    for (const dir of ancestors(start)) {
      const packageDir = join(dir, 'node_modules', packageName);
      if (searched.includes(packageDir)) continue;
      searched.push(packageDir);
      const manifestFile = join(packageDir, 'package.json');
      if (!existsSync(manifestFile)) continue;
      const manifest = readManifest(manifestFile);
      const entry = exportsEntry(manifest, subpath);
      const file = entry ? resolveFileOrDirectory(join(packageDir, entry)) : undefined;
      if (file) return { found: true, module: describe(file) };
    }
  }
  return { found: false, searched };
}

function splitSpecifier(use: string): { packageName: string; subpath: string } {
  const parts = use.split('/');
  const nameLength = use.startsWith('@') ? 2 : 1;
  const packageName = parts.slice(0, nameLength).join('/');
  const rest = parts.slice(nameLength).join('/');
  return { packageName, subpath: rest === '' ? '.' : `./${rest}` };
}

interface Manifest {
  name?: string;
  version?: string;
  main?: string;
  exports?: unknown;
}

function readManifest(file: string): Manifest {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch {
    return {};
  }
}

/** The file a package exports for `subpath`, following the `exports` map with import/node/default/require conditions. */
function exportsEntry(manifest: Manifest, subpath: string): string | undefined {
  const exportsField = manifest.exports;
  if (exportsField === undefined) return subpath === '.' ? (manifest.main ?? 'index.js') : subpath;
  if (typeof exportsField === 'string') return subpath === '.' ? exportsField : undefined;
  if (exportsField !== null && typeof exportsField === 'object') {
    const map = exportsField as Record<string, unknown>;
    const hasSubpaths = Object.keys(map).some((key) => key.startsWith('.'));
    return pickCondition(hasSubpaths ? map[subpath] : subpath === '.' ? map : undefined);
  }
  return undefined;
}

function pickCondition(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const picked = pickCondition(item);
      if (picked) return picked;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const condition of CONDITIONS) {
      const picked = pickCondition((value as Record<string, unknown>)[condition]);
      if (picked) return picked;
    }
  }
  return undefined;
}

function resolveFileOrDirectory(path: string): string | undefined {
  if (isFile(path)) return path;
  for (const extension of ['.js', '.mjs', '.cjs']) if (isFile(path + extension)) return path + extension;
  if (isDirectory(path)) {
    const manifestFile = join(path, 'package.json');
    if (existsSync(manifestFile)) {
      const entry = exportsEntry(readManifest(manifestFile), '.');
      if (entry && isFile(join(path, entry))) return join(path, entry);
    }
    for (const index of ['index.js', 'index.mjs', 'index.cjs']) if (isFile(join(path, index))) return join(path, index);
  }
  return undefined;
}

/** The module's file plus the name and version of the package that owns it. */
function describe(file: string): ResolvedAdapterModule {
  for (const dir of ancestors(dirname(file))) {
    const manifestFile = join(dir, 'package.json');
    if (existsSync(manifestFile)) {
      const manifest = readManifest(manifestFile);
      return {
        url: pathToFileURL(file).href,
        file,
        ...(manifest.name ? { packageName: manifest.name } : {}),
        ...(manifest.version ? { packageVersion: manifest.version } : {}),
      };
    }
    if (dir.endsWith('node_modules')) break;
  }
  return { url: pathToFileURL(file).href, file };
}

function* ancestors(start: string): Generator<string> {
  let dir = resolve(start);
  for (;;) {
    yield dir;
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
