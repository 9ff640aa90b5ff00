import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { ErrorCodes } from '../errors.js';
import { partitionKeyOf, resolveProviderUrl } from '../model/partition-key.js';
import { branchAllowed } from './branch-pattern.js';
import { configSchema } from './config-schema.js';
import { ConfigValidationError, type ConfigProblem } from './config-problem.js';
import { schemaProblems, suggestion } from './schema-problems.js';
import type {
  AdapterRef,
  FieldRemoval,
  GitopsReverserConfig,
  LogLevel,
  PruneMode,
  RuleConfig,
  RuleOperation,
  RuleScope,
  SourcePosition,
  TargetConfig,
} from './config-types.js';
import { expandEnvironment } from './env-expansion.js';
import { normalizeTargetPath, pathsOverlap, targetPathProblem } from './target-path.js';

export const DEFAULT_SOURCE = '@gitops-reverser/source-informer';
export const DEFAULT_BUS = '@gitops-reverser/bus-memory';
export const DEFAULT_SINK = '@gitops-reverser/sink-git';

export interface LoadConfigOptions {
  /** Environment for `${VAR}` expansion; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

// coerceTypes: `port: ${PORT}` expands to a string; "8080" is accepted where a number is expected.
const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, coerceTypes: true });
ajv.addVocabulary(['x-fix']);
const validateRaw = ajv.compile(configSchema);

/** Reads, expands and validates a config file. Throws ConfigValidationError listing every problem. */
export function loadConfigFile(file: string, options: LoadConfigOptions = {}): GitopsReverserConfig {
  const configFile = resolve(file);
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String((cause as Error).message);
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
  const raw = document.toJS() ?? {};
  const problems: ConfigProblem[] = [];
  const findPosition = positionFinder(document, lineCounter);

  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigValidationError(configFile, [
      { code: ErrorCodes.CONFIG_INVALID, keyPath: '', message: 'must be a YAML mapping with cluster, providers, targets and rules', fix: 'start from examples/quickstart.yaml' },
    ]);
  }

  const expanded = expandEnvironment(raw, options.env ?? process.env, problems) as Record<string, unknown>;
  if (!validateRaw(expanded)) {
    problems.push(...schemaProblems(validateRaw.errors ?? [], []));
  }
  if (problems.length > 0) throw new ConfigValidationError(configFile, locateProblems(problems, findPosition));

  const written = expanded as unknown as RawConfig;
  const config = buildConfig(written, configFile, findPosition);
  checkReferences(config, written, problems);
  if (problems.length > 0) throw new ConfigValidationError(configFile, locateProblems(problems, findPosition));
  return config;
}

interface RawAdapterRef { use: string; with?: Record<string, unknown> }
interface RawConfig {
  cluster: { id: string; kubeconfig?: string; context?: string };
  server?: { port?: number; host?: string; enabled?: boolean };
  log?: { level?: LogLevel };
  sources?: RawAdapterRef[];
  normalizers?: RawAdapterRef[];
  sanitizer?: { removeFields?: (string | { path: string; kinds?: string[] })[]; removeAnnotations?: string[]; removeLabels?: string[] };
  bus?: RawAdapterRef;
  sink?: RawAdapterRef;
  providers: { name: string; url: string; allowedBranches?: string[]; auth?: { username?: string; password?: string; token?: string } }[];
  targets: { name: string; provider: string; branch: string; path: string; prune?: PruneMode; layout?: string }[];
  rules: {
    target: string;
    scope?: RuleScope;
    namespaces?: string[];
    apiGroups?: string[];
    apiVersions?: string[];
    resources: string[];
    operations?: (RuleOperation | '*')[];
  }[];
  shutdown?: { timeoutSeconds?: number };
}

function adapterRef(raw: RawAdapterRef | undefined, fallback: string, keyPath: string): AdapterRef {
  return { use: raw?.use ?? fallback, with: raw?.with ?? {}, keyPath };
}

function buildConfig(raw: RawConfig, configFile: string, findPosition: (keyPath: string) => SourcePosition | undefined): GitopsReverserConfig {
  const baseDir = dirname(configFile);
  const envLevel = process.env['LOG_LEVEL'] as LogLevel | undefined;
  const removeFields: FieldRemoval[] = (raw.sanitizer?.removeFields ?? []).map((entry) =>
    typeof entry === 'string' ? { path: entry, kinds: [] } : { path: entry.path, kinds: entry.kinds ?? [] },
  );
  return {
    configFile,
    baseDir,
    cluster: {
      id: raw.cluster.id,
      ...(raw.cluster.kubeconfig ? { kubeconfig: resolvePath(baseDir, raw.cluster.kubeconfig) } : {}),
      ...(raw.cluster.context ? { context: raw.cluster.context } : {}),
    },
    server: { port: raw.server?.port ?? 8080, host: raw.server?.host ?? '0.0.0.0', enabled: raw.server?.enabled ?? true },
    log: { level: raw.log?.level ?? (isLogLevel(envLevel) ? envLevel : 'info') },
    sources: (raw.sources ?? [{ use: DEFAULT_SOURCE }]).map((ref, i) => adapterRef(ref, DEFAULT_SOURCE, `sources[${i}]`)),
    normalizers: (raw.normalizers ?? []).map((ref, i) => adapterRef(ref, '', `normalizers[${i}]`)),
    sanitizer: {
      removeFields,
      removeAnnotations: raw.sanitizer?.removeAnnotations ?? [],
      removeLabels: raw.sanitizer?.removeLabels ?? [],
    },
    bus: adapterRef(raw.bus, DEFAULT_BUS, 'bus'),
    sink: adapterRef(raw.sink, DEFAULT_SINK, 'sink'),
    providers: raw.providers.map((p) => ({
      name: p.name,
      url: resolveProviderUrl(p.url, baseDir),
      allowedBranches: p.allowedBranches ?? ['**'],
      ...(p.auth ? { auth: p.auth } : {}),
    })),
    targets: raw.targets.map(
      (t): TargetConfig => ({
        name: t.name,
        provider: t.provider,
        branch: t.branch,
        path: normalizeTargetPath(t.path),
        prune: t.prune ?? 'OnEvent',
        ...(t.layout ? { layout: t.layout } : {}),
      }),
    ),
    rules: raw.rules.map(
      (r, i): RuleConfig => ({
        target: r.target,
        scope: r.scope ?? 'Namespaced',
        namespaces: r.namespaces ?? [],
        apiGroups: r.apiGroups ?? [],
        apiVersions: r.apiVersions ?? [],
        resources: r.resources,
        operations: (r.operations ?? []).includes('*') ? [] : ((r.operations ?? []) as RuleOperation[]),
        keyPath: `rules[${i}]`,
      }),
    ),
    shutdown: { timeoutSeconds: raw.shutdown?.timeoutSeconds ?? 25 },
    findPosition,
  };
}

/** Cross-references and rules no schema can express (target paths are checked as written). */
function checkReferences(config: GitopsReverserConfig, raw: RawConfig, problems: ConfigProblem[]): void {
  const providers = new Map<string, (typeof config.providers)[number]>();
  config.providers.forEach((provider, i) => {
    if (providers.has(provider.name)) {
      problems.push({ code: ErrorCodes.CONFIG_DUPLICATE, keyPath: `providers[${i}].name`, message: `provider "${provider.name}" is defined twice`, fix: 'give each provider a unique name' });
    }
    providers.set(provider.name, provider);
  });

  const targets = new Map<string, TargetConfig>();
  config.targets.forEach((target, i) => {
    if (targets.has(target.name)) {
      problems.push({ code: ErrorCodes.CONFIG_DUPLICATE, keyPath: `targets[${i}].name`, message: `target "${target.name}" is defined twice`, fix: 'give each target a unique name' });
    }
    const provider = providers.get(target.provider);
    if (!provider) {
      problems.push({
        code: ErrorCodes.CONFIG_DANGLING_REF,
        keyPath: `targets[${i}].provider`,
        message: `provider "${target.provider}" is not defined`,
        fix: suggestion(target.provider, [...providers.keys()], 'providers'),
      });
    } else if (!branchAllowed(target.branch, provider.allowedBranches)) {
      problems.push({
        code: ErrorCodes.CONFIG_BRANCH_NOT_ALLOWED,
        keyPath: `targets[${i}].branch`,
        message: `branch "${target.branch}" is not in allowedBranches [${provider.allowedBranches.join(', ')}] of provider "${provider.name}"`,
        fix: `use one of the allowed branches, or add "${target.branch}" to providers[${config.providers.indexOf(provider)}].allowedBranches`,
      });
    }
    const written = raw.targets[i]?.path ?? target.path;
    const pathProblem = targetPathProblem(written);
    if (pathProblem) {
      problems.push({ code: ErrorCodes.CONFIG_PATH, keyPath: `targets[${i}].path`, message: `"${written}" ${pathProblem}`, fix: 'use a relative folder inside the repository, e.g. "clusters/dev"' });
    }
    targets.set(target.name, target);
  });

  // Targets that share a branch share one writer; nested folders would make one target's sweep
  // delete the other's files, so they are refused.
  config.targets.forEach((a, i) => {
    const providerA = providers.get(a.provider);
    if (!providerA) return;
    config.targets.slice(0, i).forEach((b, j) => {
      const providerB = providers.get(b.provider);
      if (!providerB || partitionKeyOf(providerA.url, a.branch) !== partitionKeyOf(providerB.url, b.branch)) return;
      if (pathsOverlap(a.path, b.path)) {
        problems.push({
          code: ErrorCodes.CONFIG_OVERLAP,
          keyPath: `targets[${i}].path`,
          message: `"${a.path || '<repository root>'}" overlaps targets[${j}] "${b.name}" ("${b.path || '<repository root>'}") on the same repository and branch`,
          fix: 'give targets on one branch disjoint folders, e.g. clusters/a and clusters/b',
        });
      }
    });
  });

  config.rules.forEach((rule, i) => {
    if (!targets.has(rule.target)) {
      problems.push({
        code: ErrorCodes.CONFIG_DANGLING_REF,
        keyPath: `rules[${i}].target`,
        message: `target "${rule.target}" is not defined`,
        fix: suggestion(rule.target, [...targets.keys()], 'targets'),
      });
    }
    if (rule.scope === 'Cluster' && rule.namespaces.length > 0) {
      problems.push({
        code: ErrorCodes.CONFIG_INVALID,
        keyPath: `rules[${i}].namespaces`,
        message: 'namespaces only apply to rules with scope: Namespaced',
        fix: 'remove namespaces, or set scope: Namespaced',
      });
    }
    rule.resources.forEach((resource, k) => {
      if (resource.includes('/')) {
        problems.push({
          code: ErrorCodes.CONFIG_INVALID,
          keyPath: `rules[${i}].resources[${k}]`,
          message: `"${resource}" is a subresource; only whole resources are written to git`,
          fix: `use "${resource.split('/')[0]}"`,
        });
      }
    });
  });
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

function resolvePath(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(value);
}
