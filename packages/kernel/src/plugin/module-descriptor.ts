import { createRequire } from 'node:module';

/** What an imported adapter module offers as its descriptor. */
export interface ModuleDescriptor {
  /** The value to check as a descriptor. */
  readonly candidate: unknown;
  /** Set when the module is CommonJS and exports no descriptor where one may be: what it exports instead. */
  readonly commonJsProblem?: string;
}

/** The fix for a CommonJS module without a descriptor where the kernel looks. */
export const COMMONJS_FIX =
  'compile the adapter to ES modules ("type": "module" in package.json, "module": "nodenext" in tsconfig.json) with export default defineAdapter(...), or set module.exports (or exports.default) to the descriptor';

// Node keeps every module it loads as CommonJS in require.cache, imported ones included; ES modules never.
const loadedAsCommonJs = createRequire(import.meta.url).cache;

/**
 * The descriptor is a module's default export. For CommonJS, import() gives `module.exports` as the
 * default export, so both ways authors export one work: `module.exports = descriptor`, and
 * `exports.default = descriptor` (what tsc emits for `export default` with `module: commonjs`, and
 * what `module.exports = { default: descriptor }` means). The second is taken only when
 * `module.exports` itself is not a descriptor, so there is never a choice between two.
 * `problemOf` says why a value is not a descriptor (undefined when it is one).
 */
export function moduleDescriptor(namespace: { default?: unknown }, file: string, problemOf: (value: unknown) => string | undefined): ModuleDescriptor {
  const exported = namespace.default;
  if (!isCommonJs(namespace, file)) return { candidate: exported };
  const outer = problemOf(exported);
  if (outer === undefined) return { candidate: exported };
  const inner = (exported as { default?: unknown } | null | undefined)?.default;
  const innerProblem = problemOf(inner);
  if (innerProblem === undefined) return { candidate: inner };
  return {
    candidate: exported,
    commonJsProblem:
      `a CommonJS module whose module.exports (${shapeOf(exported)}) is not an adapter descriptor (${outer}), ` +
      (inner === undefined ? 'and it has no exports.default' : `and neither is its exports.default (${innerProblem})`),
  };
}

/** require.cache says for certain; `.cjs` and tsc's `__esModule` marker (a named export of the module) say so too. */
function isCommonJs(namespace: object, file: string): boolean {
  return file in loadedAsCommonJs || file.endsWith('.cjs') || '__esModule' in namespace;
}

function shapeOf(value: unknown): string {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? 'a function' : String(value);
  const keys = Object.keys(value).filter((key) => key !== '__esModule');
  return keys.length === 0 ? 'an empty object' : `keys: ${keys.join(', ')}`;
}
