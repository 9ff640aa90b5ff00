// A whole adapter in one file: copy this package to start your own (see docs/writing-adapters.md).
// It is a normalizer in the sanitize phase: objects carrying the annotation
// `gitops-reverser.io/ignore: "true"` (or any configured label/annotation) are not written to git.
import { defineAdapter, packageVersionOf, type KubeObject, type Logger, type Normalizer } from '@gitops-reverser/contract';

/** The options, as the schema below leaves them (validated, defaults applied). */
export interface IgnoreMarkedOptions {
  /** Annotation whose value "true" keeps an object out of git. */
  readonly annotation: string;
  /** Optional label with the same meaning, for objects that cannot carry annotations easily. */
  readonly label?: string;
}

/** The normalizer itself: plain class, no kernel imports, easy to unit-test. */
export class IgnoreMarked implements Normalizer {
  readonly name = 'ignore-marked';
  // sanitize: runs before the content hash, so a dropped object never counts as a change.
  readonly phase = 'sanitize' as const;

  constructor(
    private readonly options: IgnoreMarkedOptions,
    private readonly logger?: Logger,
  ) {}

  normalize(object: KubeObject): KubeObject | null {
    const metadata = object.metadata;
    const marked = metadata?.annotations?.[this.options.annotation] === 'true' || (this.options.label !== undefined && metadata?.labels?.[this.options.label] === 'true');
    if (marked) {
      this.logger?.debug({ kind: object.kind, name: metadata?.name }, 'object is marked to be ignored; not written');
      return null;
    }
    // Never mutate the input: return it unchanged (or a changed copy).
    return object;
  }
}

export default defineAdapter<'normalizer', IgnoreMarkedOptions>({
  meta: { name: 'gitops-reverser-normalizer-template', version: packageVersionOf(import.meta.url), slot: 'normalizer', kernel: '^0.3.0' },
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      annotation: { type: 'string', minLength: 1, default: 'gitops-reverser.io/ignore', 'x-fix': 'an annotation key, e.g. gitops-reverser.io/ignore' },
      label: { type: 'string', minLength: 1 },
    },
  },
  // create() gets the validated options and kernel services; keep it free of I/O.
  create: ({ options, logger }) => new IgnoreMarked(options, logger),
});
