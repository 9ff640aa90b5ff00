import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { grError } from '@gitops-reverser/contract';
import { CreateAdapterErrorCodes } from './error-codes.js';

/** The four slots a config names adapters under. */
export const SLOTS = ['source', 'bus', 'normalizer', 'sink'] as const;
export type Slot = (typeof SLOTS)[number];

export interface CreateAdapterOptions {
  /** npm package name, e.g. `my-sink` or `@acme/sink-s3`. */
  readonly name: string;
  readonly slot: Slot;
  /** Folder to write into (created; must be empty if it exists). Default: the name without its scope, in the working directory. */
  readonly directory?: string;
}

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ownManifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };

/**
 * The versions a generated package builds and tests with: the ones this repository builds with
 * (a test keeps them equal to the root package.json's devDependencies).
 */
export const TOOL_VERSIONS = { typescript: '~5.9.3', vitest: '^4.1.12', '@types/node': '^20.19.0' } as const;

const NAME = /^(?:@[a-z0-9][a-z0-9._-]*\/)?[a-z][a-z0-9._-]*$/;

/** Writes a complete adapter package for one slot; returns the folder it wrote. */
export function createAdapterPackage(options: CreateAdapterOptions): string {
  const { name, slot } = options;
  if (!NAME.test(name) || name.length > 214) {
    throw grError(CreateAdapterErrorCodes.NAME, `"${name}" is not a package name this generator can use`, {
      fix: 'lowercase letters, digits, ".", "_" and "-", starting with a letter, optionally under a scope: my-sink, @acme/sink-s3',
    });
  }
  if (!SLOTS.includes(slot)) throw grError(CreateAdapterErrorCodes.USAGE, `unknown slot "${slot}"`, { fix: `use one of ${SLOTS.join(', ')}` });
  const directory = resolve(options.directory ?? unscoped(name));
  if (existsSync(directory) && readdirSync(directory).length > 0) {
    throw grError(CreateAdapterErrorCodes.DIRECTORY, `${directory} exists and is not empty`, { fix: 'choose another name or --directory, or remove that folder' });
  }
  const range = `^${ownManifest.version}`;
  const substitute = (text: string) => text.replaceAll('__PACKAGE_NAME__', name).replaceAll('__ERROR_PREFIX__', errorPrefix(name)).replaceAll('__KERNEL_RANGE__', range);
  const template = (file: string) => substitute(readFileSync(join(packageRoot, 'templates', slot, file), 'utf8'));

  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(manifest(name, slot, range), null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(tsconfig, null, 2)}\n`,
    '.gitignore': 'node_modules/\ndist/\n*.tgz\n',
    'src/index.ts': template('src/index.ts'),
    [`test/${unscoped(name)}.test.ts`]: template('test/adapter.test.ts'),
    'README.md': readme(name, slot, template('config.yaml')),
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(directory, file)), { recursive: true });
    writeFileSync(join(directory, file), text);
  }
  return directory;
}

/** The slot a name says, when it says exactly one (`my-sink` → sink). */
export function slotOfName(name: string): Slot | undefined {
  const words = unscoped(name).split(/[^a-z0-9]+/);
  const found = SLOTS.filter((slot) => words.includes(slot));
  return found.length === 1 ? found[0] : undefined;
}

function unscoped(name: string): string {
  return name.replace(/^@[^/]+\//, '');
}

/** `@acme/sink-s3` → `ACME_SINK_S3`: the first words of the package's error codes. */
function errorPrefix(name: string): string {
  return name
    .replace(/^@/, '')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean)
    .join('_');
}

function manifest(name: string, slot: Slot, range: string) {
  return {
    name,
    version: '0.1.0',
    description: `A gitops-reverser ${slot} adapter.`,
    license: 'UNLICENSED',
    type: 'module',
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './package.json': './package.json' },
    files: ['dist', 'README.md'],
    engines: { node: '>=20.19' },
    keywords: ['gitops-reverser', `gitops-reverser-${slot}`],
    scripts: { build: 'tsc', test: 'vitest run', prepack: 'tsc' },
    // One contract at run time: the one the kernel loading this adapter brings.
    peerDependencies: { '@gitops-reverser/contract': range },
    devDependencies: { '@gitops-reverser/contract': range, ...TOOL_VERSIONS },
  };
}

const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    declaration: true,
    sourceMap: true,
    rootDir: 'src',
    outDir: 'dist',
    skipLibCheck: true,
    types: ['node'],
  },
  include: ['src'],
};

function readme(name: string, slot: Slot, config: string): string {
  const tarball = `${unscoped(name)}-0.1.0.tgz`;
  return `# ${name}

\`\`\`yaml
# A gitops-reverser config using this ${slot} (the rest of the config as usual):
${config.trimEnd()}
\`\`\`

A gitops-reverser ${slot} adapter, generated by \`npm init @gitops-reverser/adapter\`. \`src/index.ts\`
holds the adapter and its descriptor (the default export), \`test/\` runs the ${slot}'s conformance suite
from \`@gitops-reverser/contract/conformance\` and tests of its own.

\`\`\`sh
npm install          # the contract, TypeScript and vitest
npm run build        # tsc: src/ -> dist/
npm test             # the conformance suite and your tests
npm pack             # ${tarball}
\`\`\`

Try it before publishing: in the folder of your config, \`npm install gitops-reverser ./path/to/${tarball}\`,
then \`npx gitops-reverser validate --config <your config>\` loads it by its package name (\`use: ${name}\`),
and \`npx gitops-reverser plugins --config <your config>\` shows the version it resolved to. Publish it
with \`npm publish\` once you chose a \`license\` in package.json.

Every interface and what an adapter must not do: \`node_modules/@gitops-reverser/contract/README.md\`
and the gitops-reverser repository's docs/writing-adapters.md. Error codes of this package start with \`${errorPrefix(name)}_ERR_\`; list each
here with its meaning and fix.
`;
}
