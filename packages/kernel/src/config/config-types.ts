import type { CredentialMode, RuleConfig, TargetConfig } from '@gitops-reverser/contract';
import type { BuiltInList } from '../normalize/noise-lists.js';

/** The config format this kernel reads (`apiVersion:` at the top of the file). */
export const CONFIG_API_VERSION = 'gitops-reverser/v1alpha2';

/** A slot entry in the config: which adapter (`use`) and its options (`with`). */
export interface AdapterRef {
  /** npm package name, or a path relative to the config file's folder. */
  readonly use: string;
  readonly with: Readonly<Record<string, unknown>>;
  /** Instance name for logs, metrics and /readyz (default: the adapter's package name). */
  readonly name?: string;
  /** Key path of this entry in the config file, for error messages (e.g. `sources[0]`). */
  readonly keyPath: string;
}

/** A source entry: an adapter plus the cluster it observes. */
export interface SourceRef extends AdapterRef {
  /** Cluster id: part of every identity the source emits, and `{cluster}` in file layouts. */
  readonly cluster: string;
}

export interface FieldRemoval {
  /**
   * Path into the object (the kernel README's field path syntax): `spec.replicas`,
   * `spec.template.spec.containers[name=istio-proxy]`, `metadata.annotations["example.com/x"]`.
   */
  readonly path: string;
  /** Limit to these kinds (`Kind`, or `Kind.group` for one group); empty = every kind. */
  readonly kinds: readonly string[];
}

export interface SanitizerConfig {
  readonly removeFields: readonly FieldRemoval[];
  /** Annotation keys to drop; a trailing `*` matches a prefix. */
  readonly removeAnnotations: readonly string[];
  /** Label keys to drop; a trailing `*` matches a prefix. */
  readonly removeLabels: readonly string[];
  /** Which built-in lists apply (docs/noise.md); all do unless switched off. */
  readonly defaults: Readonly<Record<BuiltInList, boolean>>;
  /** Keys the built-in noise annotations would drop that are kept (a trailing `*` matches a prefix). */
  readonly keepAnnotations: readonly string[];
  /** Keys the built-in noise labels would drop that are kept. */
  readonly keepLabels: readonly string[];
  /** Server-owned metadata fields that are kept (e.g. `finalizers`, `ownerReferences`). */
  readonly keepMetadata: readonly string[];
}

/**
 * Known-safe content the credential gate does not report. An entry matches a finding when every
 * list it gives matches (an empty list matches anything).
 */
export interface CredentialIgnore {
  /** Rule ids of the gate's rule set (`gitops-reverser defaults` lists them). */
  readonly rules: readonly string[];
  /** `Kind` or `Kind.group`. */
  readonly kinds: readonly string[];
  readonly namespaces: readonly string[];
  readonly names: readonly string[];
  /** Field paths (the removeFields syntax); a path covers everything below it. */
  readonly paths: readonly string[];
}

/** The credential gate (docs/credentials.md). */
export interface CredentialsConfig {
  /** The mode of rules that do not set `credentials:`. */
  readonly mode: CredentialMode;
  /** Absolute path of the key of redaction markers (needed by `redact`; every replica the same). */
  readonly redactionKeyFile?: string;
  readonly ignore: readonly CredentialIgnore[];
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/** `json`: pino JSON lines; `text`: one readable line per record; `auto`: text on a terminal, else JSON. */
export type LogFormat = 'auto' | 'json' | 'text';

export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** A validated config, defaults applied. Built from a file (`loadConfigFile`) or an object (`defineConfig`). */
/** One `attribution.authors` entry: a username or a field manager, and the author to name for it. */
export interface AuthorMapping {
  readonly username?: string;
  readonly fieldManager?: string;
  readonly name: string;
  readonly email?: string;
}

export interface GitopsReverserConfig {
  readonly apiVersion: typeof CONFIG_API_VERSION;
  /** Absolute path of the file this config was read from ("<inline>" when built in code). */
  readonly configFile: string;
  /** Folder relative paths and adapter packages are resolved from. */
  readonly baseDir: string;
  /**
   * /healthz /readyz /metrics. `enabled` undefined: the CLI serves, an embedded runtime does not
   * (see `createRuntime`'s `serve`).
   */
  readonly server: { readonly port: number; readonly host: string; readonly enabled?: boolean };
  readonly log: { readonly level: LogLevel; readonly format: LogFormat };
  readonly sources: readonly SourceRef[];
  readonly normalizers: readonly AdapterRef[];
  readonly sanitizer: SanitizerConfig;
  readonly credentials: CredentialsConfig;
  readonly bus: AdapterRef;
  readonly sink: AdapterRef;
  readonly targets: readonly TargetConfig[];
  readonly rules: readonly RuleConfig[];
  readonly startup: { readonly timeoutSeconds: number };
  /**
   * How long a writer holds a live change without an actor for its attribution fact. Undefined: 1500 ms
   * when a source attributes (source-audit), else 0 (no wait).
   */
  readonly attribution: {
    readonly waitMs?: number;
    /** Absolute path of the key of the content hash that joins admission facts (every replica the same). */
    readonly contentKeyFile?: string;
    /** Who to name as author: by username (display name, email), or by field manager for writes nobody is known to have made. */
    readonly authors: readonly AuthorMapping[];
  };
  /** The watchdog over sink calls (see the kernel README). */
  readonly watchdog: { readonly applyWarnSeconds: number; readonly applyTimeoutSeconds: number; readonly refusedAnswersSeconds: number };
  readonly shutdown: { readonly timeoutSeconds: number };
  /** Where a key path (e.g. `sink.with.commitWindow`) is written in the config file, when known. */
  readonly findPosition?: (keyPath: string) => SourcePosition | undefined;
  /** Values that came from `${VAR}`, by key path: problems show them as written, never expanded. */
  readonly expandedValues?: ReadonlyMap<string, { readonly written: string; readonly value: string }>;
}
