import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import {
  labelSelectorProblem,
  type CredentialMode,
  type LabelSelector,
  type RuleConfig,
  type RuleOperation,
  type RuleScope,
  type TargetConfig,
  type UnselectedPolicy,
} from '@gitops-reverser/contract';
import { CREDENTIAL_RULES } from '../credentials/credential-rules.js';
import { ErrorCodes } from '../errors.js';
import { coercingConfigValidator, configValidator } from './config-validators.js';
import { ConfigValidationError, type ConfigProblem } from './config-problem.js';
import { CONFIG_API_VERSION, type AdapterRef, type FieldRemoval, type GitopsReverserConfig, type LogFormat, type LogLevel, type SourcePosition, type SourceRef } from './config-types.js';
import { DEFAULT_SANITIZER_CONFIG } from '../normalize/default-sanitizer.js';
import { FieldPathError, parseFieldPath } from '../normalize/field-path.js';
import { BUILT_IN_LISTS, SERVER_OWNED_METADATA, type BuiltInList } from '../normalize/noise-lists.js';
import { expandEnvironment, hideExpandedValues, type ExpandedValue } from './env-expansion.js';
import { coerceExpandedValues } from './expanded-coercion.js';
import { oldShapeProblems } from './old-shape.js';
import { schemaProblems, suggestion } from './schema-problems.js';

export const DEFAULT_BUS = '@gitops-reverser/bus-memory';
export const DEFAULT_SINK = '@gitops-reverser/sink-git';
/** The name `configFile` has for a config built in code. */
export const INLINE_CONFIG = '<inline>';

export interface LoadConfigOptions {
  /** Environment for `${VAR}` expansion; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** The config as written: what `defineConfig` takes and what a YAML file holds. */
export interface ConfigInput {
  apiVersion?: typeof CONFIG_API_VERSION;
  /** `port`: a number, or a string only as `${VAR}` expanding to one (literals keep their type). */
  server?: { port?: number | string; host?: string; enabled?: boolean };
  log?: { level?: LogLevel; format?: LogFormat };
  /** Required in a file; may be left out in code when sources are given as instances. */
  sources?: { use: string; cluster: string; name?: string; with?: Record<string, unknown> }[];
  normalizers?: { use: string; name?: string; with?: Record<string, unknown> }[];
  sanitizer?: {
    removeFields?: (string | { path: string; kinds?: string[] })[];
    removeAnnotations?: string[];
    removeLabels?: string[];
    /** false: no built-in list applies; a mapping switches single lists (docs/noise.md). */
    defaults?: boolean | Partial<Record<BuiltInList, boolean>>;
    keepAnnotations?: string[];
    keepLabels?: string[];
    keepMetadata?: string[];
  };
  credentials?: {
    mode?: CredentialMode;
    redactionKeyFile?: string;
    ignore?: { rules?: string[]; kinds?: string[]; namespaces?: string[]; names?: string[]; paths?: string[] }[];
  };
  bus?: { use: string; name?: string; with?: Record<string, unknown> };
  sink?: { use: string; name?: string; with?: Record<string, unknown> };
  targets: { name: string; with?: Record<string, unknown> }[];
  rules: {
    target: string;
    scope?: RuleScope;
    clusters?: string[];
    namespaces?: string[];
    apiGroups?: string[];
    apiVersions?: string[];
    resources: string[];
    operations?: (RuleOperation | '*')[];
    plaintextSecrets?: boolean;
    objectSelector?: LabelSelector;
    namespaceSelector?: LabelSelector;
    unselected?: UnselectedPolicy;
    credentials?: CredentialMode;
  }[];
  startup?: { timeoutSeconds?: number };
  shutdown?: { timeoutSeconds?: number };
  attribution?: { waitMs?: number; contentKeyFile?: string; authors?: { username?: string; fieldManager?: string; name: string; email?: string }[] };
  watchdog?: { applyWarnSeconds?: number; applyTimeoutSeconds?: number; refusedAnswersSeconds?: number };
}

// Values are checked as written; only those from `${VAR}` (always strings) are first converted to
// the schema's type (`port: "${PORT}"`), by a coercing copy of the validator (see coerceExpandedValues).
// Both are generated at build time (config-validators.ts).

/** Reads, expands and validates a config file. Throws ConfigValidationError listing every problem. */
export function loadConfigFile(file: string, options: LoadConfigOptions = {}): GitopsReverserConfig {
  const configFile = resolve(file);
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'it is a folder, not a file' : code === 'EACCES' ? 'permission denied' : String((cause as Error).message);
    throw new ConfigValidationError(configFile, [
      {
        code: ErrorCodes.CONFIG_READ,
        keyPath: '',
        message: `cannot read config: ${reason}`,
        fix: 'pass the path of an existing YAML file with --config, e.g. --config examples/quickstart.yaml',
      },
    ]);
  }
  return parseConfig(text, configFile, options);
}

/** Validates config text as if read from `configFile` (whose folder anchors relative paths). */
export function parseConfig(text: string, configFile: string, options: LoadConfigOptions = {}): GitopsReverserConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigValidationError(
      configFile,
      // The first syntax error is the real one; the rest usually follow from it.
      document.errors.slice(0, 3).map((error) => {
        const position = error.linePos?.[0];
        return {
          code: ErrorCodes.CONFIG_YAML,
          keyPath: '',
          message: `not valid YAML: ${error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`,
          fix: 'correct the YAML syntax at the position shown',
          ...(position ? { line: position.line, column: position.col } : {}),
        };
      }),
    );
  }
  let raw: unknown;
  try {
    raw = document.toJS() ?? {};
  } catch (error) {
    // yaml refuses documents whose aliases expand without bound ("billion laughs").
    throw new ConfigValidationError(configFile, [
      { code: ErrorCodes.CONFIG_YAML, keyPath: '', message: `cannot be read: ${(error as Error).message}`, fix: 'write the values out instead of nesting anchors and aliases (*name) this deeply' },
    ]);
  }
  return validateConfig(raw, configFile, dirname(configFile), positionFinder(document, lineCounter), options);
}

/**
 * Builds a config in code, validated exactly like a file (same schema, defaults, checks and error
 * codes). `apiVersion` may be left out. Relative paths in options resolve against `baseDir`
 * (default: the current folder).
 */
export function defineConfig(input: ConfigInput, options: LoadConfigOptions & { baseDir?: string } = {}): GitopsReverserConfig {
  const raw = input !== null && typeof input === 'object' && !Array.isArray(input) && !('apiVersion' in input) ? { apiVersion: CONFIG_API_VERSION, ...input } : input;
  return validateConfig(raw, INLINE_CONFIG, resolve(options.baseDir ?? process.cwd()), undefined, options);
}

function validateConfig(
  raw: unknown,
  configFile: string,
  baseDir: string,
  findPosition: ((keyPath: string) => SourcePosition | undefined) | undefined,
  options: LoadConfigOptions,
): GitopsReverserConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigValidationError(configFile, [
      { code: ErrorCodes.CONFIG_INVALID, keyPath: '', message: 'must be a mapping with apiVersion, sources, targets and rules', fix: 'start from examples/quickstart.yaml' },
    ]);
  }
  const versionProblems = oldShapeProblems(raw as Record<string, unknown>);
  if (versionProblems.length > 0) throw new ConfigValidationError(configFile, locateProblems(versionProblems, findPosition));

  const problems: ConfigProblem[] = [];
  const expandedValues = new Map<string, ExpandedValue>();
  const written = expandEnvironment(raw, options.env ?? process.env, problems, [], expandedValues) as Record<string, unknown>;
  const expanded = coerceExpandedValues(written, coercingConfigValidator, [], expandedValues);
  const validate = configValidator();
  if (!validate(expanded)) problems.push(...schemaProblems(validate.errors ?? [], [], { reference: 'examples/quickstart.yaml', expanded: expandedValues }));
  const refuse = () => new ConfigValidationError(configFile, locateProblems(hideExpandedValues(problems, expandedValues), findPosition));
  if (problems.length > 0) throw refuse();

  const config = { ...buildConfig(expanded as unknown as ConfigInput, configFile, baseDir, findPosition), ...(expandedValues.size > 0 ? { expandedValues } : {}) };
  checkReferences(config, problems);
  checkSanitizerAndCredentials(config, problems);
  if (problems.length > 0) throw refuse();
  return config;
}

function adapterRef(raw: { use: string; name?: string; with?: Record<string, unknown> } | undefined, fallback: string, keyPath: string): AdapterRef {
  return { use: raw?.use ?? fallback, with: raw?.with ?? {}, keyPath, ...(raw?.name ? { name: raw.name } : {}) };
}

function buildConfig(raw: ConfigInput, configFile: string, baseDir: string, findPosition: ((keyPath: string) => SourcePosition | undefined) | undefined): GitopsReverserConfig {
  const envLevel = process.env['LOG_LEVEL'] as LogLevel | undefined;
  const envFormat = process.env['LOG_FORMAT'];
  const removeFields: FieldRemoval[] = (raw.sanitizer?.removeFields ?? []).map((entry) => (typeof entry === 'string' ? { path: entry, kinds: [] } : { path: entry.path, kinds: entry.kinds ?? [] }));
  return {
    apiVersion: CONFIG_API_VERSION,
    configFile,
    baseDir,
    server: {
      port: Number(raw.server?.port ?? 8080),
      // Loopback unless asked: the server has no authentication (in a pod, set host: 0.0.0.0).
      host: raw.server?.host ?? '127.0.0.1',
      ...(raw.server?.enabled !== undefined ? { enabled: raw.server.enabled } : {}),
    },
    log: { level: raw.log?.level ?? (isLogLevel(envLevel) ? envLevel : 'info'), format: raw.log?.format ?? (isLogFormat(envFormat) ? envFormat : 'auto') },
    sources: (raw.sources ?? []).map((ref, i): SourceRef => ({ ...adapterRef(ref, '', `sources[${i}]`), cluster: ref.cluster })),
    normalizers: (raw.normalizers ?? []).map((ref, i) => adapterRef(ref, '', `normalizers[${i}]`)),
    sanitizer: {
      removeFields,
      removeAnnotations: raw.sanitizer?.removeAnnotations ?? [],
      removeLabels: raw.sanitizer?.removeLabels ?? [],
      defaults: builtInLists(raw.sanitizer?.defaults),
      keepAnnotations: raw.sanitizer?.keepAnnotations ?? [],
      keepLabels: raw.sanitizer?.keepLabels ?? [],
      keepMetadata: raw.sanitizer?.keepMetadata ?? [],
    },
    credentials: {
      mode: raw.credentials?.mode ?? 'warn',
      ...(raw.credentials?.redactionKeyFile !== undefined ? { redactionKeyFile: resolveUserPath(baseDir, raw.credentials.redactionKeyFile) } : {}),
      ignore: (raw.credentials?.ignore ?? []).map((entry) => ({
        rules: entry.rules ?? [],
        kinds: entry.kinds ?? [],
        namespaces: entry.namespaces ?? [],
        names: entry.names ?? [],
        paths: entry.paths ?? [],
      })),
    },
    bus: adapterRef(raw.bus, DEFAULT_BUS, 'bus'),
    sink: adapterRef(raw.sink, DEFAULT_SINK, 'sink'),
    targets: raw.targets.map((t, i): TargetConfig => ({ name: t.name, with: t.with ?? {}, keyPath: `targets[${i}]` })),
    rules: raw.rules.map(
      (r, i): RuleConfig => ({
        target: r.target,
        scope: r.scope ?? 'Namespaced',
        clusters: r.clusters ?? [],
        namespaces: r.namespaces ?? [],
        apiGroups: r.apiGroups ?? [],
        apiVersions: r.apiVersions ?? [],
        resources: r.resources,
        operations: (r.operations ?? []).includes('*') ? [] : ((r.operations ?? []) as RuleOperation[]),
        plaintextSecrets: r.plaintextSecrets ?? false,
        ...(r.objectSelector ? { objectSelector: r.objectSelector } : {}),
        ...(r.namespaceSelector ? { namespaceSelector: r.namespaceSelector } : {}),
        ...(r.unselected ? { unselected: r.unselected } : {}),
        ...(r.credentials ? { credentials: r.credentials } : {}),
        keyPath: `rules[${i}]`,
      }),
    ),
    startup: { timeoutSeconds: raw.startup?.timeoutSeconds ?? 600 },
    attribution: {
      ...(raw.attribution?.waitMs !== undefined ? { waitMs: raw.attribution.waitMs } : {}),
      ...(raw.attribution?.contentKeyFile !== undefined ? { contentKeyFile: resolveUserPath(baseDir, raw.attribution.contentKeyFile) } : {}),
      authors: raw.attribution?.authors ?? [],
    },
    watchdog: {
      applyWarnSeconds: raw.watchdog?.applyWarnSeconds ?? 60,
      applyTimeoutSeconds: raw.watchdog?.applyTimeoutSeconds ?? 0,
      refusedAnswersSeconds: raw.watchdog?.refusedAnswersSeconds ?? 60,
    },
    shutdown: { timeoutSeconds: raw.shutdown?.timeoutSeconds ?? 25 },
    ...(findPosition ? { findPosition } : {}),
  };
}

/** Cross-references and rules no schema can express. Target options are the sink's to check. */
function checkReferences(config: GitopsReverserConfig, problems: ConfigProblem[]): void {
  const targets = new Set<string>();
  config.targets.forEach((target, i) => {
    if (targets.has(target.name)) {
      problems.push({ code: ErrorCodes.CONFIG_DUPLICATE, keyPath: `targets[${i}].name`, message: `target "${target.name}" is defined twice`, fix: 'give each target a unique name' });
    }
    targets.add(target.name);
  });

  const names = new Set<string>();
  [...config.sources, ...config.normalizers, config.bus, config.sink].forEach((ref) => {
    if (!ref.name) return;
    if (names.has(ref.name)) {
      problems.push({ code: ErrorCodes.CONFIG_DUPLICATE, keyPath: `${ref.keyPath}.name`, message: `instance name "${ref.name}" is used twice`, fix: 'give each adapter instance a unique name' });
    }
    names.add(ref.name);
  });

  const clusters = [...new Set(config.sources.map((s) => s.cluster))];
  config.rules.forEach((rule, i) => {
    if (!targets.has(rule.target)) {
      problems.push({
        code: ErrorCodes.CONFIG_DANGLING_REF,
        keyPath: `rules[${i}].target`,
        message: `target "${rule.target}" is not defined`,
        fix: suggestion(rule.target, [...targets], 'targets'),
      });
    }
    rule.clusters.forEach((cluster, k) => {
      if (!clusters.includes(cluster)) {
        problems.push({
          code: ErrorCodes.CONFIG_DANGLING_REF,
          keyPath: `rules[${i}].clusters[${k}]`,
          message: `no source observes cluster "${cluster}"`,
          fix: suggestion(cluster, clusters, 'sources[].cluster'),
        });
      }
    });
    if (rule.scope === 'Cluster' && rule.namespaces.length > 0) {
      problems.push({
        code: ErrorCodes.CONFIG_INVALID,
        keyPath: `rules[${i}].namespaces`,
        message: 'namespaces only apply to rules with scope: Namespaced',
        fix: 'remove namespaces, or set scope: Namespaced',
      });
    }
    if (rule.scope === 'Cluster' && rule.namespaceSelector) {
      problems.push({
        code: ErrorCodes.CONFIG_INVALID,
        keyPath: `rules[${i}].namespaceSelector`,
        message: 'namespaceSelector only applies to rules with scope: Namespaced',
        fix: 'remove namespaceSelector, or set scope: Namespaced',
      });
    }
    for (const key of ['objectSelector', 'namespaceSelector'] as const) {
      const selector = rule[key];
      const problem = selector ? labelSelectorProblem(selector) : undefined;
      if (problem)
        problems.push({
          code: ErrorCodes.CONFIG_INVALID,
          keyPath: `rules[${i}].${key}`,
          message: `not a valid label selector: ${problem}`,
          fix: 'write it as for a Kubernetes object (matchLabels, matchExpressions)',
        });
    }
    if (rule.unselected && !rule.objectSelector && !rule.namespaceSelector) {
      problems.push({
        code: ErrorCodes.CONFIG_INVALID,
        keyPath: `rules[${i}].unselected`,
        message: 'unselected only applies to rules with an objectSelector or a namespaceSelector',
        fix: 'add a selector, or remove unselected',
      });
    }
    // A namespace name that cannot exist would select nothing, silently.
    const isNamespaceName = (name: string) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) && name.length <= 63;
    rule.namespaces.forEach((namespace, k) => {
      if (!isNamespaceName(namespace)) {
        problems.push({
          code: ErrorCodes.CONFIG_INVALID,
          keyPath: `rules[${i}].namespaces[${k}]`,
          message: `"${namespace}" is not a namespace name (a DNS label: lowercase letters, digits and "-"), so it would select nothing`,
          fix:
            namespace === '*'
              ? 'leave namespaces out to select every namespace'
              : `write the namespace as it is named in the cluster${isNamespaceName(namespace.toLowerCase()) ? `: "${namespace.toLowerCase()}"?` : ''}`,
        });
      }
    });
    rule.resources.forEach((resource, k) => {
      // Resources are lowercase plurals (kubectl api-resources); a Kind (ConfigMap) would select nothing.
      if (resource !== '*' && resource !== resource.toLowerCase()) {
        problems.push({
          code: ErrorCodes.CONFIG_INVALID,
          keyPath: `rules[${i}].resources[${k}]`,
          message: `"${resource}" is not a resource name: resources are lowercase plurals, so it would select nothing`,
          fix: `write the plural as kubectl api-resources lists it (ConfigMap: configmaps, Deployment: deployments)`,
        });
      }
      if (resource.includes('/')) {
        problems.push({
          code: ErrorCodes.CONFIG_INVALID,
          keyPath: `rules[${i}].resources[${k}]`,
          message: `"${resource}" is a subresource; only whole resources are written`,
          fix: `use "${resource.split('/')[0]}"`,
        });
      }
    });
  });
}

/** Field paths, kept metadata and credential settings: what the schema cannot check. */
function checkSanitizerAndCredentials(config: GitopsReverserConfig, problems: ConfigProblem[]): void {
  const pathProblem = (path: string, keyPath: string, identityMatters: boolean) => {
    let message: string | undefined;
    let fix = 'keys joined by ".", a key with dots quoted (metadata.annotations["example.com/x"]) or escaped (example\\.com), list items as [name=istio-proxy], [0] or [*]';
    try {
      const steps = parseFieldPath(path);
      const first = steps[0];
      const second = steps[1];
      const names = (step: typeof first, key: string) => step?.kind === 'key' && step.key === key;
      // Removing what names the object would leave a file nobody can apply or place.
      if (
        identityMatters &&
        ((steps.length === 1 && (names(first, 'apiVersion') || names(first, 'kind') || names(first, 'metadata'))) ||
          (steps.length === 2 && names(first, 'metadata') && (names(second, 'name') || names(second, 'namespace'))))
      ) {
        message = `"${path}" names the object itself (apiVersion, kind, metadata, metadata.name, metadata.namespace) and cannot be removed`;
        fix = 'remove this entry, or name a field below it (e.g. metadata.annotations["example.com/x"])';
      }
    } catch (error) {
      if (!(error instanceof FieldPathError)) throw error;
      message = error.message;
    }
    if (message) {
      problems.push({
        code: ErrorCodes.CONFIG_INVALID,
        keyPath,
        message,
        fix,
      });
    }
  };
  for (const [i, removal] of config.sanitizer.removeFields.entries()) pathProblem(removal.path, `sanitizer.removeFields[${i}]`, true);
  config.sanitizer.keepMetadata.forEach((field, i) => {
    if (!(SERVER_OWNED_METADATA as readonly string[]).includes(field)) {
      problems.push({
        code: ErrorCodes.CONFIG_INVALID,
        keyPath: `sanitizer.keepMetadata[${i}]`,
        message: `"${field}" is not a server-owned metadata field the sanitizer removes`,
        fix: suggestion(field, [...SERVER_OWNED_METADATA], 'the server-owned metadata fields'),
      });
    }
  });
  for (const [i, entry] of config.credentials.ignore.entries()) for (const [k, path] of entry.paths.entries()) pathProblem(path, `credentials.ignore[${i}].paths[${k}]`, false);
  // A misspelt rule id would silently ignore nothing: refuse it with the ids there are.
  const ruleIds = CREDENTIAL_RULES.map((rule) => rule.id);
  for (const [i, entry] of config.credentials.ignore.entries()) {
    for (const [k, id] of entry.rules.entries()) {
      if (!ruleIds.includes(id)) {
        problems.push({
          code: ErrorCodes.CONFIG_INVALID,
          keyPath: `credentials.ignore[${i}].rules[${k}]`,
          message: `"${id}" is not a rule of the credential gate`,
          fix: suggestion(id, ruleIds, 'the rule ids (gitops-reverser defaults lists them)'),
        });
      }
    }
  }
  const redacting = [
    config.credentials.mode === 'redact' ? 'credentials.mode' : undefined,
    ...config.rules.map((rule) => (rule.credentials === 'redact' ? `${rule.keyPath}.credentials` : undefined)),
  ].filter((keyPath): keyPath is string => keyPath !== undefined);
  if (redacting.length > 0 && !config.credentials.redactionKeyFile) {
    problems.push({
      code: ErrorCodes.CONFIG_INVALID,
      keyPath: redacting[0] as string,
      message: 'credentials: redact needs credentials.redactionKeyFile: the markers are keyed, so a short secret cannot be guessed from its marker in git',
      fix: 'create a key every replica shares (openssl rand -hex 32 > redaction.key) and set credentials.redactionKeyFile: ./redaction.key',
    });
  }
}

/** `sanitizer.defaults` as written (a boolean or a mapping) to one switch per built-in list. */
function builtInLists(written: boolean | Partial<Record<BuiltInList, boolean>> | undefined): Record<BuiltInList, boolean> {
  if (typeof written === 'boolean') return Object.fromEntries(BUILT_IN_LISTS.map((list) => [list, written])) as Record<BuiltInList, boolean>;
  return { ...DEFAULT_SANITIZER_CONFIG.defaults, ...written };
}

/** Finds where a key path is written; a missing key is located at its closest existing parent. */
function positionFinder(document: Document, lineCounter: LineCounter): (keyPath: string) => SourcePosition | undefined {
  return (keyPath) => {
    const segments = keyPath
      .split(/\.|\[(\d+)\]/)
      .filter((s) => s !== undefined && s !== '')
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    for (let n = segments.length; n > 0; n--) {
      const node = document.getIn(segments.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { line, column: col };
      }
    }
    return undefined;
  };
}

/** A config's problems as users see them: located in the file, `${VAR}` values hidden. */
export function configProblems(config: Pick<GitopsReverserConfig, 'findPosition' | 'expandedValues'>, problems: readonly ConfigProblem[]): ConfigProblem[] {
  return locateProblems(hideExpandedValues(problems, config.expandedValues), config.findPosition);
}

/** Adds file positions to problems that have a key path but no position yet. */
export function locateProblems(problems: readonly ConfigProblem[], find: ((keyPath: string) => SourcePosition | undefined) | undefined): ConfigProblem[] {
  return dedupe(
    problems.map((problem) => {
      if (problem.line || problem.keyPath === '' || !find) return problem;
      const position = find(problem.keyPath);
      return position ? { ...problem, line: position.line, column: position.column } : problem;
    }),
  );
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.keyPath}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isLogFormat(value: string | undefined): value is LogFormat {
  return value === 'auto' || value === 'json' || value === 'text';
}

function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(value);
}

/** A path from the config as users mean it: `~/` is the home folder, a relative path is relative to the config file's folder. */
function resolveUserPath(baseDir: string, path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : resolve(baseDir, path);
}
