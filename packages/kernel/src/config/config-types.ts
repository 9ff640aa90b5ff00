/** A slot entry in the config: which adapter (`use`) and its options (`with`). */
export interface AdapterRef {
  /** npm package name, or a path relative to the config file's folder. */
  readonly use: string;
  readonly with: Record<string, unknown>;
  /** Key path of this entry in the config file, for error messages (e.g. `sources[0]`). */
  readonly keyPath: string;
}

export type RuleScope = 'Namespaced' | 'Cluster';
export type RuleOperation = 'CREATE' | 'UPDATE' | 'DELETE';
export type PruneMode = 'Never' | 'OnEvent' | 'Always';

export interface ProviderAuth {
  readonly username?: string;
  readonly password?: string;
  readonly token?: string;
}

export interface ProviderConfig {
  readonly name: string;
  /** A local path (resolved against the config file's folder) or an http(s):// URL. */
  readonly url: string;
  /** Branch names or glob patterns (`release/*`). */
  readonly allowedBranches: readonly string[];
  readonly auth?: ProviderAuth;
}

export interface TargetConfig {
  readonly name: string;
  readonly provider: string;
  readonly branch: string;
  /** Folder inside the repository; "" is the repository root. Normalized: no leading/trailing "/". */
  readonly path: string;
  readonly prune: PruneMode;
  /** Optional file layout template; the sink documents its placeholders. */
  readonly layout?: string;
}

export interface RuleConfig {
  readonly target: string;
  readonly scope: RuleScope;
  /** Namespaced rules only: the namespaces to select; empty = all namespaces. */
  readonly namespaces: readonly string[];
  /** "" is the core group; "*" or empty = all groups. */
  readonly apiGroups: readonly string[];
  /** "*" or empty = all versions (the source watches the preferred one). */
  readonly apiVersions: readonly string[];
  /** Plural resource names; "*" = all. */
  readonly resources: readonly string[];
  /** Empty = all operations. */
  readonly operations: readonly RuleOperation[];
  readonly keyPath: string;
}

export interface FieldRemoval {
  /** Dotted path into the object, e.g. `spec.template.metadata.annotations`. */
  readonly path: string;
  /** Limit to these kinds; empty = every kind. */
  readonly kinds: readonly string[];
}

export interface SanitizerConfig {
  readonly removeFields: readonly FieldRemoval[];
  /** Annotation keys to drop; a trailing `*` matches a prefix. */
  readonly removeAnnotations: readonly string[];
  /** Label keys to drop; a trailing `*` matches a prefix. */
  readonly removeLabels: readonly string[];
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface GitopsReverserConfig {
  /** Absolute path of the file this config was read from ("<inline>" when built in code). */
  readonly configFile: string;
  /** Folder relative paths and adapter packages are resolved from. */
  readonly baseDir: string;
  readonly cluster: { readonly id: string; readonly kubeconfig?: string; readonly context?: string };
  readonly server: { readonly port: number; readonly host: string; readonly enabled: boolean };
  readonly log: { readonly level: LogLevel };
  readonly sources: readonly AdapterRef[];
  readonly normalizers: readonly AdapterRef[];
  readonly sanitizer: SanitizerConfig;
  readonly bus: AdapterRef;
  readonly sink: AdapterRef;
  readonly providers: readonly ProviderConfig[];
  readonly targets: readonly TargetConfig[];
  readonly rules: readonly RuleConfig[];
  readonly shutdown: { readonly timeoutSeconds: number };
  /** Where a key path (e.g. `sink.with.commitWindow`) is written in the config file, when known. */
  readonly findPosition?: (keyPath: string) => SourcePosition | undefined;
}

export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}
