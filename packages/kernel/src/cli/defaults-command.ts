import { stringify } from 'yaml';
import type { GitopsReverserConfig, SanitizerConfig } from '../config/config-types.js';
import { CREDENTIAL_RULES } from '../credentials/credential-rules.js';
import { DEFAULT_SANITIZER_CONFIG } from '../normalize/default-sanitizer.js';
import { NOISE_ANNOTATIONS, NOISE_LABELS, SERVER_OWNED_METADATA, SERVICE_ALLOCATED_FIELDS } from '../normalize/noise-lists.js';
import { loadAdapters } from '../plugin/load-adapters.js';
import { resolveAdapter } from '../plugin/resolve-adapter.js';

/** The watching source, whose noise list is shown when no config names the sources. */
const WATCH_SOURCE = '@gitops-reverser/source-informer';

/** An adapter option that holds a built-in list marks it in its schema with `x-defaults: <what the list is>`. */
interface ListOption {
  readonly option: string;
  readonly description: string;
  readonly value: unknown;
}

/**
 * What `gitops-reverser defaults` prints: the built-in lists (docs/noise.md) and the credential
 * gate's rule set, as YAML; with a config, as that config changes them (`sanitizer.defaults`,
 * `keep*`, `remove*`, `credentials.*`) and with each configured adapter's own lists as configured.
 */
export async function defaultsDocument(config: GitopsReverserConfig | undefined, cwd: string): Promise<string> {
  const sanitizer: SanitizerConfig = config?.sanitizer ?? DEFAULT_SANITIZER_CONFIG;
  const builtIn = (on: boolean, list: readonly string[]) => (on ? [...list] : []);
  const document = {
    sanitizer: {
      status: { removed: sanitizer.defaults.status },
      serverOwnedMetadata: { builtIn: builtIn(sanitizer.defaults.serverOwnedMetadata, SERVER_OWNED_METADATA), keep: [...sanitizer.keepMetadata] },
      annotations: { builtIn: builtIn(sanitizer.defaults.annotations, NOISE_ANNOTATIONS), keep: [...sanitizer.keepAnnotations], remove: [...sanitizer.removeAnnotations] },
      labels: { builtIn: builtIn(sanitizer.defaults.labels, NOISE_LABELS), keep: [...sanitizer.keepLabels], remove: [...sanitizer.removeLabels] },
      serviceAllocations: { builtIn: builtIn(sanitizer.defaults.serviceAllocations, SERVICE_ALLOCATED_FIELDS) },
      removeFields: sanitizer.removeFields.map((removal) => (removal.kinds.length > 0 ? { path: removal.path, kinds: [...removal.kinds] } : removal.path)),
    },
    credentials: {
      mode: config?.credentials.mode ?? 'warn',
      rules: CREDENTIAL_RULES.map((rule) => ({ id: rule.id, finds: rule.description })),
      ignore: (config?.credentials.ignore ?? []).map((entry) => Object.fromEntries(Object.entries(entry).filter(([, list]) => (list as readonly string[]).length > 0))),
    },
    adapters: config ? await configuredLists(config) : await watchSourceLists(cwd),
  };
  const header = [
    '# gitops-reverser defaults: what the default sanitizer removes, what the credential gate looks for, and the',
    `# adapters' built-in lists${config ? `, as ${config.configFile} changes them` : ' (no --config: the built-in state)'}. docs/noise.md explains each entry.`,
    '#   builtIn: the list that applies ([] when sanitizer.defaults switches it off); keep: exempted by sanitizer.keep*; remove: added by sanitizer.remove*',
  ];
  return `${header.join('\n')}\n${stringify(document, { lineWidth: 0 })}`;
}

/** The list options of every adapter the config names, with the values it gives them (defaults filled in). */
async function configuredLists(config: GitopsReverserConfig): Promise<Record<string, unknown>[]> {
  const loaded = await loadAdapters(config);
  const adapters = [...loaded.sources, ...loaded.normalizers, ...(loaded.bus ? [loaded.bus] : []), ...(loaded.sink ? [loaded.sink] : [])];
  return adapters.flatMap((adapter) => {
    const lists = listOptions(adapter.descriptor.optionsSchema, adapter.options);
    return lists.length === 0 ? [] : [{ adapter: `${adapter.ref.keyPath} (${adapter.descriptor.meta.name})`, ...listEntries(lists) }];
  });
}

/** Without a config: the watching source's lists as its schema defaults them, when it is installed. */
async function watchSourceLists(cwd: string): Promise<Record<string, unknown>[]> {
  const resolution = resolveAdapter(WATCH_SOURCE, cwd);
  if (!resolution.found) return [{ adapter: WATCH_SOURCE, note: 'not installed here' }];
  const imported = (await import(resolution.module.url)) as { default?: { optionsSchema?: unknown } };
  const lists = listOptions(imported.default?.optionsSchema, {});
  return [{ adapter: WATCH_SOURCE, ...listEntries(lists) }];
}

/** Each list under its option name, and what each list is under `about`. */
function listEntries(lists: readonly ListOption[]): Record<string, unknown> {
  return { ...Object.fromEntries(lists.map((list) => [list.option, list.value])), about: Object.fromEntries(lists.map((list) => [list.option, list.description])) };
}

function listOptions(schema: unknown, options: Record<string, unknown>): ListOption[] {
  const properties = (schema as { properties?: Record<string, { 'x-defaults'?: unknown; default?: unknown }> } | undefined)?.properties ?? {};
  return Object.entries(properties).flatMap(([option, property]) =>
    typeof property['x-defaults'] === 'string' ? [{ option, description: property['x-defaults'], value: options[option] ?? property.default ?? [] }] : [],
  );
}
