// A normalizer in the sanitize phase: objects whose annotation (default `gitops-reverser.io/ignore`)
// or optional label is "true" are kept out of git. Replace `normalize()` with your own rule. The
// contract: docs/writing-adapters.md, "Normalizers" (never mutate the input, return null to drop,
// a throw refuses that change).
import { defineAdapter, packageVersionOf, type KubeObject, type Logger, type Normalizer } from '@gitops-reverser/contract';

/** The options (`normalizers[].with`), as the schema below leaves them. */
export interface IgnoreMarkedOptions {
  /** Annotation whose value "true" keeps an object out of git. */
  readonly annotation: string;
  /** Optional label with the same meaning. */
  readonly label?: string;
}

export class IgnoreMarked implements Normalizer {
  readonly name = '__PACKAGE_NAME__';
  // sanitize: before the content hash, so a dropped object never counts as a change; `encode` runs
  // per target after it (encryption with random nonces).
  readonly phase = 'sanitize' as const;

  constructor(
    private readonly options: IgnoreMarkedOptions,
    private readonly logger?: Logger,
  ) {}

  normalize(object: KubeObject): KubeObject | null {
    const metadata = object.metadata;
    const marked = metadata?.annotations?.[this.options.annotation] === 'true' || (this.options.label !== undefined && metadata?.labels?.[this.options.label] === 'true');
    if (marked) {
      this.logger?.debug({ kind: object.kind, name: metadata?.name }, 'marked to be ignored; not written');
      return null;
    }
    // Never mutate the input: return it unchanged, or a changed copy.
    return object;
  }
}

export default defineAdapter<'normalizer', IgnoreMarkedOptions>({
  meta: { name: '__PACKAGE_NAME__', version: packageVersionOf(import.meta.url), slot: 'normalizer', kernel: '__KERNEL_RANGE__' },
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      annotation: { type: 'string', minLength: 1, default: 'gitops-reverser.io/ignore', 'x-fix': 'an annotation key, e.g. gitops-reverser.io/ignore' },
      label: { type: 'string', minLength: 1 },
    },
  },
  // create() runs for `validate` too: keep it free of I/O.
  create: ({ options, logger }) => new IgnoreMarked(options, logger),
});
