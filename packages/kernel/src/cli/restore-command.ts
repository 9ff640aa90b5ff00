import { isAbsolute, resolve } from 'node:path';
import { grError, type KubeObject, parseApiVersion, type PlannedTarget, type StoredObjectDocument, type StoredRevision } from '@gitops-reverser/contract';
import type { GitopsReverserConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors.js';
import { createDefaultSanitizer } from '../normalize/default-sanitizer.js';
import { type FieldChange, fieldChangeLines, fieldChanges, type HiddenValues, secretValues } from './field-diff.js';
import { isUnder, withoutRedactedValues } from './redacted-values.js';
import { KubeApi, type ServedType } from './kube-api.js';
import { describeSelection, parseSelector } from './object-selector.js';
import { parsePointInTime } from './point-in-time.js';
import { inRestoreOrder } from './restore-order.js';
import type { CliIo } from './run-cli.js';
import { checkIdentitiesFile, isSopsEncrypted, sopsDecrypt } from './sops-decrypt.js';
import { openStoredTargets } from './stored-targets.js';

/** The field manager of every restore write: distinct, so the object's managed fields (and attribution by field manager) show it. */
export const RESTORE_FIELD_MANAGER = 'gitops-reverser-restore';

export interface RestoreOptions {
  readonly selector: string;
  readonly at: string;
  readonly target?: string | undefined;
  readonly identities?: string | undefined;
  /** Write; otherwise a server-side dry run (the API server checks every write and keeps none). */
  readonly apply: boolean;
  readonly toCluster?: string | undefined;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly output: 'text' | 'json';
  readonly fetch: boolean;
}

type Action = 'create' | 'update' | 'unchanged';
type Result = 'written' | 'checked' | 'not checked' | 'failed' | 'still differs';

interface RestoreObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly target: string;
  readonly path: string;
  readonly revision: string;
  readonly cluster?: string;
  /** As it was: decrypted, ready to apply. */
  readonly object: KubeObject;
  /** Values never printed: a Secret's, and whatever the stored file held encrypted. */
  readonly hidden: HiddenValues;
  /** Paths of values the credential gate redacted in git: left out of the apply, the live value stays. */
  readonly redacted: readonly string[];
  action?: Action;
  fields?: FieldChange[];
  result?: Result;
  message?: string;
}

interface TargetPoint {
  readonly target: PlannedTarget;
  readonly location: string;
  readonly revision: StoredRevision;
  /** The selected objects, one document each. */
  readonly documents: StoredObjectDocument[];
}

/**
 * `gitops-reverser restore <selector> --at <time|commit>`: reads the selected objects as the targets
 * held them then, decrypts SOPS files with the `sops` CLI, compares them with the live cluster
 * (sanitized as the kernel sanitizes what it writes) and writes back what differs with server-side
 * apply under the field manager `gitops-reverser-restore`: Namespaces and CustomResourceDefinitions
 * first, deleted objects re-created. Without `--apply`, a server-side dry run. It writes only into the
 * cluster the files came from (their `Cluster:` trailer), unless `--to-cluster` names another.
 */
export async function restoreCommand(config: GitopsReverserConfig, options: RestoreOptions, io: CliIo): Promise<number> {
  const selection = parseSelector(options.selector);
  const at = parsePointInTime(options.at, '--at');
  const { history, targets } = await openStoredTargets(config, { target: options.target });
  const points: TargetPoint[] = [];
  const withoutRevision: string[] = [];
  for (const target of targets) {
    if (options.fetch) await history.refresh(target);
    const revision = await history.revisionAt(target, at);
    if (!revision) {
      withoutRevision.push(`${target.target.name} (${history.describe(target)})`);
      continue;
    }
    const documents = await history.objects(target, selection, { revision: revision.id, withRevisions: true });
    points.push({ target, location: history.describe(target), revision, documents });
  }
  const atText = at instanceof Date ? at.toISOString() : at;
  if (points.length === 0) {
    throw grError(
      ErrorCodes.HISTORY_REVISION,
      at instanceof Date
        ? `--at ${options.at}: no target had a commit at or before ${atText}: ${withoutRevision.join(', ')}`
        : `--at ${options.at} is not a commit of the branch of ${withoutRevision.join(', ')}`,
      { fix: 'pick a time or commit from `gitops-reverser history <selector> --config <file>` (times are UTC unless a zone is given)' },
    );
  }
  const objects = restoreObjects(points, options.target);
  if (objects.length === 0) {
    throw grError(
      ErrorCodes.HISTORY_NOTHING,
      `nothing of ${describeSelection(selection)} was stored at ${atText} (${points.map((p) => `${p.target.target.name}: commit ${p.revision.id.slice(0, 12)}`).join(', ')})`,
      {
        fix: 'check the selector with `gitops-reverser history`, or pick another --at',
      },
    );
  }

  const destination = destinationCluster(objects, points, config, options.toCluster);
  if (options.toCluster === undefined && !config.sources.some((source) => source.cluster === destination)) {
    throw grError(ErrorCodes.RESTORE_CLUSTER, `the files come from cluster ${destination}, which no source of ${config.configFile} observes`, {
      fix: 'to write them into the cluster of your kubeconfig anyway, name it with --to-cluster <id>',
    });
  }
  const encrypted = objects.filter((o) => isSopsEncrypted(o.object));
  if (encrypted.length > 0) {
    const identities = checkIdentitiesFile(options.identities, encrypted.length);
    for (const object of encrypted) Object.assign(object, { object: inNamespace(withoutSops(await sopsDecrypt(serialized(object.object), identities, object.path)), object.namespace) });
  }

  const api = await KubeApi.connect({ kubeconfig: options.kubeconfig, context: options.context });
  const verified = await verifyDestination(api, destination, config, options.toCluster !== undefined);
  const sanitizer = createDefaultSanitizer(config.sanitizer);
  const sanitize = async (object: KubeObject) => (await sanitizer.normalize(object, undefined as never)) as KubeObject;
  const ordered = inRestoreOrder(objects);
  const types = new Map<RestoreObject, ServedType | undefined>();
  const comingTypes = typesDefinedBy(ordered);
  const creatingNamespaces = new Set<string>();
  for (const object of ordered) {
    const served = await api.servedType(object.apiVersion, object.kind);
    types.set(object, served);
    if (!served) {
      if (comingTypes.has(`${object.apiVersion}/${object.kind}`)) object.action = 'create';
      else {
        object.result = 'failed';
        object.message = `the API server does not serve ${object.apiVersion} ${object.kind} (and no CustomResourceDefinition restored here defines it)`;
      }
      continue;
    }
    const live = await api.request('GET', api.objectPath(object.apiVersion, served, object.namespace, object.name));
    if (live.status === 404) {
      object.action = 'create';
      if (object.kind === 'Namespace' && parseApiVersion(object.apiVersion).group === '') creatingNamespaces.add(object.name);
    } else if (live.status === 200) {
      object.fields = restorableChanges(await sanitize(JSON.parse(live.body) as KubeObject), object);
      object.action = object.fields.length === 0 ? 'unchanged' : 'update';
    } else {
      object.result = 'failed';
      object.message = api.refused('reading', describe(object), live).message;
    }
  }

  const dryRun = !options.apply;
  for (const object of ordered) {
    if (object.result === 'failed' || object.action === 'unchanged' || object.action === undefined) continue;
    let served = types.get(object);
    if (!served && !dryRun) served = await api.servedType(object.apiVersion, object.kind, { fresh: true });
    if (dryRun && (!served || (object.namespace !== '' && creatingNamespaces.has(object.namespace)))) {
      object.result = 'not checked';
      object.message = served ? `its namespace ${object.namespace} is created first (a dry run keeps nothing)` : 'its type is served once its CustomResourceDefinition exists';
      continue;
    }
    if (!served) {
      object.result = 'failed';
      object.message = `the API server does not serve ${object.apiVersion} ${object.kind}`;
      continue;
    }
    const path = `${api.objectPath(object.apiVersion, served, object.namespace, object.name)}?fieldManager=${RESTORE_FIELD_MANAGER}&force=true${dryRun ? '&dryRun=All' : ''}`;
    const answer = await api.request('PATCH', path, { body: JSON.stringify(object.object), contentType: 'application/apply-patch+yaml' });
    if (answer.status === 200 || answer.status === 201) {
      object.result = dryRun ? 'checked' : 'written';
      if (!dryRun && object.kind === 'CustomResourceDefinition') await established(api, object);
    } else {
      object.result = 'failed';
      object.message = api.refused(dryRun ? 'the dry run' : 'applying', describe(object), answer).message;
    }
  }
  if (!dryRun) {
    // Server-side apply removes only fields it owned: a field another manager added since then stays. Say so.
    for (const object of ordered) {
      if (object.result !== 'written') continue;
      const served = types.get(object) ?? (await api.servedType(object.apiVersion, object.kind));
      const live = served ? await api.request('GET', api.objectPath(object.apiVersion, served, object.namespace, object.name)) : undefined;
      const left = live?.status === 200 ? restorableChanges(await sanitize(JSON.parse(live.body) as KubeObject), object) : undefined;
      if (left && left.length > 0) {
        object.result = 'still differs';
        object.fields = left;
        object.message = 'fields another field manager set were kept (server-side apply removes only fields it owned): remove them by hand, or delete the object and restore again';
      }
    }
  }

  const failed = ordered.filter((o) => o.result === 'failed' || o.result === 'still differs');
  const summary = {
    selector: options.selector,
    at: atText,
    mode: dryRun ? 'dry-run' : 'apply',
    cluster: { from: [...new Set(objects.map((o) => o.cluster).filter(Boolean))], to: destination, server: api.server, context: api.contextName, verified },
    revisions: points.map((p) => ({ target: p.target.target.name, location: p.location, revision: p.revision.id, time: p.revision.recordedAt, subject: p.revision.subject })),
    objects: ordered.map(({ object: _object, hidden: _hidden, redacted, ...rest }) => ({ ...rest, ...(redacted.length > 0 ? { redacted } : {}) })),
  };
  if (options.output === 'json') io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  else io.stdout(textReport(summary, ordered, dryRun));
  return failed.length === 0 ? 0 : 1;
}

/** The stored documents as objects to restore (each object of a multi-document file); one object stored in two targets must come from one (`--target`). */
function restoreObjects(points: readonly TargetPoint[], chosenTarget: string | undefined): RestoreObject[] {
  const byName = new Map<string, RestoreObject>();
  for (const point of points) {
    for (const document of point.documents) {
      const { group, kind, namespace, name } = document.name;
      const stored = document.object;
      if (!stored || typeof stored !== 'object' || typeof stored.apiVersion !== 'string') continue;
      // A document without metadata.namespace (a kustomization's namespace: sets it) is restored into
      // the namespace the sink resolved for it, as kustomize would render it.
      // An encrypted document gets it once decrypted (its MAC covers every value).
      const object: KubeObject = isSopsEncrypted(stored) ? stored : inNamespace(stored, namespace);
      const key = `${group}/${kind}/${namespace}/${name}${document.cluster ? `@${document.cluster}` : ''}`;
      const known = byName.get(key);
      if (known) {
        if (chosenTarget === undefined && known.target !== point.target.target.name) {
          throw grError(ErrorCodes.CLI_TARGET, `${kind} ${namespace ? `${namespace}/` : ''}${name} is stored in targets ${known.target} and ${point.target.target.name}`, {
            fix: `pass --target ${known.target} or --target ${point.target.target.name}`,
          });
        }
        continue;
      }
      const cluster = document.cluster ?? document.revision?.trailers['Cluster']?.[0] ?? (point.target.target.clusters?.length === 1 ? point.target.target.clusters[0] : undefined);
      const restorable = withoutRedactedValues(object);
      byName.set(key, {
        apiVersion: stored.apiVersion,
        kind,
        namespace,
        name,
        target: point.target.target.name,
        path: document.path,
        revision: document.revision?.id ?? point.revision.id,
        ...(cluster ? { cluster } : {}),
        object: restorable.object,
        hidden: secretValues(object),
        redacted: restorable.redacted,
      });
    }
  }
  return [...byName.values()];
}

/**
 * The cluster to write into: `--to-cluster`, else the one the files came from (their `Cluster:`
 * trailers). Files of several clusters, or of none known, need `--to-cluster`.
 */
function destinationCluster(objects: readonly RestoreObject[], points: readonly TargetPoint[], config: GitopsReverserConfig, toCluster: string | undefined): string {
  if (toCluster !== undefined) return toCluster;
  const from = [...new Set(objects.map((o) => o.cluster).filter((c): c is string => c !== undefined))];
  if (from.length === 1) return from[0] as string;
  const configured = [...new Set(config.sources.map((s) => s.cluster))];
  if (from.length === 0 && configured.length === 1) return configured[0] as string;
  throw grError(
    ErrorCodes.RESTORE_CLUSTER,
    from.length > 1
      ? `the files come from clusters ${from.join(', ')} (their Cluster: trailers in ${points.map((p) => p.target.target.name).join(', ')})`
      : 'the files do not say which cluster they came from (no Cluster: trailer) and the config observes several',
    { fix: 'restore one cluster at a time: narrow the selector or --target, and name the cluster to write into with --to-cluster <id>' },
  );
}

/**
 * Checks the kubeconfig points at the destination: when a source of the config observes that cluster
 * with a `kubeconfig` option (source-informer's), both must name the same API server. Returns how the
 * destination was verified.
 */
async function verifyDestination(api: KubeApi, destination: string, config: GitopsReverserConfig, explicit: boolean): Promise<string> {
  const sources = config.sources.filter((source) => source.cluster === destination);
  if (sources.length === 0) return `not verified: no source of the config observes cluster ${destination}`;
  for (const source of sources) {
    const kubeconfig = typeof source.with['kubeconfig'] === 'string' ? (source.with['kubeconfig'] as string) : undefined;
    if (!kubeconfig) continue;
    const file = isAbsolute(kubeconfig) ? kubeconfig : resolve(config.baseDir, kubeconfig);
    const context = typeof source.with['context'] === 'string' ? (source.with['context'] as string) : undefined;
    const expected = await KubeApi.serverOf({ kubeconfig: file, context });
    if (expected === undefined) continue;
    if (expected !== api.server) {
      throw grError(
        ErrorCodes.RESTORE_CLUSTER,
        `the kubeconfig points at ${api.server} (context ${api.contextName}), but cluster ${destination} is ${expected} (${source.keyPath} of ${config.configFile})`,
        {
          fix: explicit
            ? `use a kubeconfig for cluster ${destination} (--kubeconfig, --context), or name the cluster it points at with --to-cluster`
            : `the files came from cluster ${destination}: use a kubeconfig for it (--kubeconfig, --context); to write them into the cluster at ${api.server} instead, say so with --to-cluster <its id>`,
        },
      );
    }
    return `the API server of ${source.keyPath} (${source.name ?? source.use})`;
  }
  return `not verified: no source of cluster ${destination} names a kubeconfig to compare with`;
}

/** Kinds the CustomResourceDefinitions of this restore define, as `group/version/Kind`. */
function typesDefinedBy(objects: readonly RestoreObject[]): Set<string> {
  const kinds = new Set<string>();
  for (const object of objects) {
    if (object.kind !== 'CustomResourceDefinition') continue;
    const spec = object.object['spec'] as { group?: string; names?: { kind?: string }; versions?: { name?: string }[] } | undefined;
    for (const version of spec?.versions ?? []) if (spec?.group && spec.names?.kind && version.name) kinds.add(`${spec.group}/${version.name}/${spec.names.kind}`);
  }
  return kinds;
}

/** Waits until a written CustomResourceDefinition is Established, so objects of its kind can follow. */
async function established(api: KubeApi, crd: RestoreObject): Promise<void> {
  const served = await api.servedType(crd.apiVersion, crd.kind);
  if (!served) return;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const answer = await api.request('GET', api.objectPath(crd.apiVersion, served, '', crd.name));
    const conditions = answer.status === 200 ? ((JSON.parse(answer.body) as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? []) : [];
    if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The object with `metadata.namespace` (what the stored history resolved for a document that leaves it out). */
function inNamespace(object: KubeObject, namespace: string): KubeObject {
  return namespace === '' || object.metadata?.namespace === namespace ? object : { ...object, metadata: { ...object.metadata, namespace } };
}

/** How the live object differs from what the restore writes: values redacted in git are not written, so they are no difference. */
function restorableChanges(live: KubeObject, object: RestoreObject): FieldChange[] {
  return fieldChanges(live, object.object, object.hidden).filter((change) => !isUnder(change.path, object.redacted));
}

function withoutSops(object: KubeObject): KubeObject {
  const { sops: _sops, ...rest } = object;
  return rest;
}

function serialized(object: KubeObject): string {
  return JSON.stringify(object);
}

function describe(object: Pick<RestoreObject, 'apiVersion' | 'kind' | 'namespace' | 'name'>): string {
  return `${object.apiVersion} ${object.kind} ${object.namespace ? `${object.namespace}/` : ''}${object.name}`;
}

function textReport(
  summary: { at: string; cluster: { to: string; server: string; context: string; verified: string }; revisions: { target: string; revision: string; time: string; subject: string }[] },
  objects: readonly RestoreObject[],
  dryRun: boolean,
): string {
  const lines = [`restore as of ${summary.at} into cluster ${summary.cluster.to} (${summary.cluster.server}, context ${summary.cluster.context}; ${summary.cluster.verified})`];
  for (const r of summary.revisions) lines.push(`  target ${r.target}: commit ${r.revision.slice(0, 12)} of ${r.time} "${r.subject}"`);
  for (const object of objects) {
    const action = object.result === 'failed' && object.action === undefined ? 'error' : (object.action ?? 'error');
    const result = object.result && object.result !== 'checked' && object.result !== 'written' ? `  [${object.result}]` : '';
    lines.push(`  ${action.padEnd(9)}  ${describe(object)}${result}`);
    if (object.action === 'update' || object.result === 'still differs') for (const line of fieldChangeLines(object.fields ?? [])) lines.push(`      ${line}`);
    if (object.redacted.length > 0) lines.push(`      kept as live (redacted in git, never restored): ${object.redacted.join(', ')}`);
    // Not checked in a dry run: said once below, not per object.
    if (object.message && object.result !== 'not checked') lines.push(`      ${object.message}`);
  }
  const writes = objects.filter((o) => o.action === 'create' || o.action === 'update');
  const failed = objects.filter((o) => o.result === 'failed' || o.result === 'still differs');
  if (dryRun) {
    const unchecked = writes.filter((o) => o.result === 'not checked').length;
    lines.push(
      `dry run (server): ${writes.filter((o) => o.result === 'checked').length} of ${writes.length} write(s) checked by the API server, none kept` +
        (unchecked > 0 ? `; ${unchecked} not checked: their namespace or their CustomResourceDefinition is created first, which a dry run does not keep` : '') +
        `${failed.length > 0 ? `; ${failed.length} failed` : ''}. With --apply they are written.`,
    );
  } else {
    lines.push(
      `applied: ${writes.filter((o) => o.result === 'written').length} object(s) written with server-side apply (field manager ${RESTORE_FIELD_MANAGER})${failed.length > 0 ? `; ${failed.length} failed or still differ` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
