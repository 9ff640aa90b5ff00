import { createInterface } from 'node:readline/promises';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { errorText, isGitopsReverserError } from '@gitops-reverser/contract';
import { createAdapterPackage, SLOTS, slotOfName, type Slot } from './adapter-package.js';
import { CreateAdapterErrorCodes } from './error-codes.js';

const USAGE = `Writes a gitops-reverser adapter package: source, adapter, conformance tests, README.

Usage:
  npm init @gitops-reverser/adapter <name> [-- --slot <slot>] [--directory <folder>]
  npx @gitops-reverser/create-adapter <name> [--slot <slot>] [--directory <folder>]

  <name>               npm package name (my-sink, @acme/sink-s3)
  --slot <slot>        source, bus, normalizer or sink (default: the slot the name says, e.g. my-sink;
                       asked on a terminal otherwise)
  --directory <folder> where to write (default: the name without its scope); must be empty
  -h, --help           this text
`;

export interface CreateAdapterIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Asks a question on a terminal; undefined when there is none to ask on. */
  readonly ask?: (question: string) => Promise<string>;
}

const processIo: CreateAdapterIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  ...(process.stdin.isTTY
    ? {
        ask: async (question: string) => {
          const rl = createInterface({ input: process.stdin, output: process.stdout });
          try {
            return (await rl.question(question)).trim();
          } finally {
            rl.close();
          }
        },
      }
    : {}),
};

/** The `create-adapter` command; returns the exit code. */
export async function runCreateAdapter(argv: readonly string[], io: CreateAdapterIo = processIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.stderr(`${CreateAdapterErrorCodes.USAGE}: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  try {
    const name = positionals[0] ?? (await ask(io, 'Package name (e.g. my-sink): ', 'a package name: npm init @gitops-reverser/adapter my-sink'));
    const slot =
      values.slot ?? slotOfName(name) ?? (await ask(io, `Slot (${SLOTS.join(', ')}): `, `--slot: the name "${name}" does not say its slot; add -- --slot sink (or source, bus, normalizer)`));
    if (!SLOTS.includes(slot as Slot)) {
      io.stderr(`${CreateAdapterErrorCodes.USAGE}: unknown slot "${slot}"\n  fix: use --slot ${SLOTS.join(', --slot ')}\n`);
      return 2;
    }
    const directory = createAdapterPackage({ name, slot: slot as Slot, ...(values.directory ? { directory: values.directory } : {}) });
    const where = relative(process.cwd(), directory) || '.';
    io.stdout(
      `wrote a ${slot} adapter, ${name}, to ${where}\n\n` +
        `  cd ${where}\n  npm install\n  npm run build\n  npm test        # the ${slot} conformance suite and the package's own tests\n  npm pack        # then, next to your config: npm install gitops-reverser ./${where}/<the .tgz>, and use: ${name}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof MissingAnswer) {
      io.stderr(`${CreateAdapterErrorCodes.USAGE}: no terminal to ask on, and ${error.message}\n`);
      return 2;
    }
    io.stderr(`${isGitopsReverserError(error) ? error.describe() : `error: ${errorText(error)}`}\n`);
    return 1;
  }
}

class MissingAnswer extends Error {}

async function ask(io: CreateAdapterIo, question: string, needed: string): Promise<string> {
  if (!io.ask) throw new MissingAnswer(`it needs ${needed}`);
  return io.ask(question);
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { slot: { type: 'string' }, directory: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
}
