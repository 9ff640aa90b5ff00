import { identityKey, type Logger } from '@gitops-reverser/contract';
import { attributionTrailers, authorOf, renderMessage, withTrailers, type FileOperation, type Identity, type MessageTemplates } from './commit-message.js';
import { type FileWrite, type PlannedCommit, seedObjectCount, snapshotComplete } from './commit-plan.js';
import { FilePlacement, type PlacementMemory } from './file-placement.js';
import type { GitDirectory } from './git-directory.js';
import type { GitTarget } from './git-target.js';
import { ObjectIndex } from './object-index.js';
import { encodeObject, serializeCommit, type EncodedObject, type Signature } from './git-objects.js';
import { creationRulesFor, SOPS_CONFIG_FILE } from './sops-files.js';
import type { TreeStore } from './tree-store.js';
import { refusalOf } from './write-refusal.js';

/** What a commit changed, in a form that can be replayed on another base. */
export interface CommitRecord {
  readonly changes: ReadonlyMap<string, string | null>;
  readonly message: string;
  readonly author: Signature;
  /** The writes it was built from (commits of this process): a replay places them again on the new base. */
  readonly plan?: PlannedCommit;
  /**
   * Every object this commit added over its parent (blobs, trees, the commit): what a push must send.
   * Undefined for commits found in the repository rather than built here (a push then finds them itself).
   */
  readonly objects?: readonly EncodedObject[];
}

export interface BuiltCommit extends CommitRecord {
  readonly oid: string;
  /** Items of the plan whose content changed (the others were already there). */
  readonly changedItems: ReadonlySet<number>;
}

export interface CommitBuilderOptions {
  readonly directory: GitDirectory;
  readonly trees: TreeStore;
  readonly committer: Identity;
  readonly messages: MessageTemplates;
  /** Email domain for actors whose username is not an email; `{cluster}` is replaced. */
  readonly authorEmailDomain: string;
  readonly logger: Logger;
}

/**
 * Turns planned commits into git objects: compares each write with the tree it lands on (equal
 * content is no change; what a path held decides CREATE vs UPDATE), prunes for complete snapshots,
 * rewrites only the trees on changed paths, and stores blobs, trees and the commit. It also replays a
 * recorded commit on another base (after the remote moved).
 */
export class CommitBuilder {
  /** Tree of the last commit built or read, since every next commit needs it. */
  private lastTree: { commit: string; tree: string } | undefined;
  /** Per target: its documents by object (see ObjectIndex). */
  private readonly indexes = new Map<string, ObjectIndex>();
  /** Blobs known to be the kernel's rendering of what they hold, shared by the targets. */
  private readonly canonicalBlobs = new Set<string>();
  /** Per target: the objects this writer wrote since start. */
  private readonly written = new Map<string, Set<string>>();

  constructor(private readonly options: CommitBuilderOptions) {}

  /** Builds and stores the commit of `plan` on `head`; undefined when it changes nothing. */
  async build(plan: PlannedCommit, head: string | undefined): Promise<BuiltCommit | undefined> {
    const { trees, logger } = this.options;
    const headTree = await this.treeOf(head);
    const index = this.indexOf(plan.target);
    await index.syncTo(headTree);
    const placement = new FilePlacement(plan.target, index, trees, headTree, this.memoryOf(plan.target), logger);
    // The last write of an object wins.
    const finalWrites = new Map<string, FileWrite>();
    for (const write of plan.writes) finalWrites.set(identityKey(write.identity), write);
    plan.refused = new Map();
    for (const write of finalWrites.values()) {
      try {
        await placement.place(write);
      } catch (error) {
        // A person's file stops this object only: the commit goes on without it (ADR 0039).
        const refusal = refusalOf(error);
        if (!refusal) throw error;
        const blocker = refusal.path === '' ? undefined : await trees.lookup(headTree, refusal.path);
        plan.refused.set(write.itemIndex, { ...refusal, identity: write.identity, ...(blocker ? { blob: blocker.oid } : {}) });
      }
    }
    if (plan.kind === 'seed' && plan.target.prune === 'Always') {
      // Rejected objects have no file; they were seen, so they do not make the snapshot incomplete.
      if (snapshotComplete(plan) && plan.end) {
        await placement.prune(plan.end.clusterId, [...plan.writes.map((w) => w.identity), ...(plan.kept ?? [])]);
      } else {
        logger.warn({ target: plan.target.name, expected: plan.end?.objectCount, received: seedObjectCount(plan) }, 'snapshot incomplete: not pruning files of objects that may still exist');
      }
    }
    const { changes, blobs, lines, created } = await placement.result();
    // A refused write adds no `.sops.yaml` (its file was not written).
    const refused = plan.refused;
    await this.addSopsConfig(
      plan,
      headTree,
      [...finalWrites.values()].filter((write) => !refused.has(write.itemIndex)),
      changes,
      blobs,
    );
    if (changes.size === 0) return undefined;
    await this.warnOfCaseCollisions(headTree, created);

    const author = this.authorFor(
      plan,
      lines.map((l) => l.write),
    );
    const message = this.messageFor(plan, lines);
    const { oid, objects } = await this.store(headTree, head, changes, { message, author }, blobs);
    await index.record(changes, this.lastTree?.tree);
    return { oid, changes, message, author, objects, plan, changedItems: new Set(lines.map((l) => l.write.itemIndex)) };
  }

  /** The object index of a target (a reload that moves its folder or layout starts a new one). */
  private indexOf(target: GitTarget): ObjectIndex {
    const key = `${target.name}|${target.path}|${target.layout.template}`;
    let index = this.indexes.get(key);
    if (!index) {
      index = new ObjectIndex(target, this.options.trees, (oid) => this.options.directory.readBlob(oid), this.options.logger);
      this.indexes.set(key, index);
    }
    return index;
  }

  private memoryOf(target: GitTarget): PlacementMemory {
    let written = this.written.get(target.name);
    if (!written) this.written.set(target.name, (written = new Set()));
    return { canonicalBlobs: this.canonicalBlobs, written };
  }

  /**
   * Replays a recorded commit on `base`: only its changes that differ from `base` are applied, so
   * files another writer changed elsewhere stay as they are. Undefined when nothing is left to change.
   */
  async replay(record: CommitRecord, base: string | undefined): Promise<(CommitRecord & { oid: string }) | undefined> {
    // A commit of this process is placed again on the new base: its objects go where they live
    // there (a person may have moved or edited their files meanwhile), edited in place.
    if (record.plan) return await this.build(record.plan, base);
    const tree = await this.treeOf(base);
    const effective = new Map<string, string | null>();
    for (const [path, oid] of record.changes) {
      const existing = (await this.options.trees.lookup(tree, path))?.oid;
      if ((oid === null && existing !== undefined) || (oid !== null && existing !== oid)) effective.set(path, oid);
    }
    if (effective.size === 0) return undefined;
    // The blobs are the original commit's (already stored); the trees and the commit are new.
    const blobs = record.objects?.filter((object) => object.type === 'blob' && [...effective.values()].includes(object.oid));
    const { oid, objects } = await this.store(tree, base, effective, record, []);
    return { ...record, changes: effective, oid, ...(blobs ? { objects: [...blobs, ...objects] } : { objects: undefined }) };
  }

  /** Writes the target folder's `.sops.yaml` when this commit holds SOPS files and it is missing or different. */
  private async addSopsConfig(plan: PlannedCommit, headTree: string | undefined, writes: readonly FileWrite[], changes: Map<string, string | null>, blobs: EncodedObject[]): Promise<void> {
    const sops = [...writes].reverse().find((write) => write.sops && write.yaml !== null)?.sops;
    const content = sops ? creationRulesFor(sops) : undefined;
    if (!content) return;
    const path = plan.target.path === '' ? SOPS_CONFIG_FILE : `${plan.target.path}/${SOPS_CONFIG_FILE}`;
    const blob = encodeObject('blob', Buffer.from(content));
    if ((await this.options.trees.lookup(headTree, path))?.oid === blob.oid) return;
    changes.set(path, blob.oid);
    blobs.push(blob);
  }

  /**
   * Names differing only in case (`Foo` and `foo`) are two files in git but one on a case-insensitive
   * disk (macOS, Windows): a checkout there shows one of them. Written anyway; said once per file.
   */
  private async warnOfCaseCollisions(headTree: string | undefined, created: readonly string[]): Promise<void> {
    // Twins are looked for in the head tree: a new branch has none (a seed's 10,000 files ask nothing).
    if (headTree === undefined) return;
    for (const path of created) {
      const slash = path.lastIndexOf('/');
      const twin = (await this.options.trees.caseTwins(headTree, slash < 0 ? '' : path.slice(0, slash), path.slice(slash + 1)))[0];
      if (twin) {
        this.options.logger.warn(
          { path, existing: `${path.slice(0, slash + 1)}${twin}` },
          `${path} differs from ${path.slice(0, slash + 1)}${twin} only in case: both are in git, but a checkout on a case-insensitive file system (macOS, Windows) shows only one`,
        );
      }
    }
  }

  /** The root tree of a commit (undefined: no commit yet, the empty tree). */
  async treeOf(commit: string | undefined): Promise<string | undefined> {
    if (!commit) return undefined;
    if (this.lastTree?.commit === commit) return this.lastTree.tree;
    const tree = (await this.options.directory.readCommit(commit)).tree;
    this.lastTree = { commit, tree };
    return tree;
  }

  private async store(
    baseTree: string | undefined,
    parent: string | undefined,
    changes: ReadonlyMap<string, string | null>,
    record: Pick<CommitRecord, 'message' | 'author'>,
    blobs: readonly EncodedObject[],
  ): Promise<{ oid: string; objects: EncodedObject[] }> {
    const { root, objects } = await this.options.trees.apply(baseTree, changes);
    const commit = encodeObject(
      'commit',
      serializeCommit({
        tree: root,
        parents: parent ? [parent] : [],
        author: record.author,
        committer: { ...this.options.committer, timestamp: Date.now() / 1000 },
        message: record.message,
      }),
    );
    const written = [...blobs, ...objects, commit];
    await this.options.directory.writeObjects(written);
    this.lastTree = { commit: commit.oid, tree: root };
    return { oid: commit.oid, objects: written };
  }

  private authorFor(plan: PlannedCommit, writes: readonly FileWrite[]): Signature {
    const committer = this.options.committer;
    if (plan.kind === 'seed') return { ...committer, timestamp: Date.now() / 1000 };
    const event = (writes[writes.length - 1] ?? plan.writes[plan.writes.length - 1])?.event;
    const cluster = event?.identity.clusterId ?? '';
    const who = authorOf(event?.actor, committer, this.options.authorEmailDomain.replace('{cluster}', cluster));
    const observed = Date.parse(event?.observedAt ?? '');
    return { ...who, timestamp: Number.isFinite(observed) ? observed / 1000 : Date.now() / 1000 };
  }

  private messageFor(plan: PlannedCommit, lines: readonly { write: FileWrite; operation: FileOperation }[]): string {
    const templates = this.options.messages;
    const first = lines[0] as { write: FileWrite; operation: FileOperation };
    const cluster = plan.end?.clusterId ?? first?.write.identity.clusterId;
    if (plan.kind === 'seed') {
      const count = plan.end?.objectCount ?? plan.writes.length;
      return withTrailers(renderMessage(templates.seed, { count, target: plan.target.name }), [], [['Cluster', cluster]]);
    }
    if (lines.length === 1) {
      const { write, operation } = first;
      return withTrailers(
        renderMessage(templates.event, { operation, identity: write.identity, target: plan.target.name }),
        [],
        [['Cluster', cluster], ['Resource-Version', write.event.resourceVersion], ...attributionTrailers(write.event), ['Impersonated-By', write.event.actor?.impersonatedBy?.username]],
      );
    }
    const author = first.write.event.actor?.username ?? this.options.committer.name;
    const subject = renderMessage(templates.group, { author, target: plan.target.name, count: lines.length });
    const body = lines.map(({ write, operation }) => renderMessage(templates.event, { operation, identity: write.identity }));
    // Each distinct trailer once, in order (a grouped commit holds several writes of one author).
    const writeIds = new Map(lines.flatMap((l) => attributionTrailers(l.write.event)).map((trailer) => [trailer.join(': '), trailer]));
    const impersonators = [...new Set(lines.map((l) => l.write.event.actor?.impersonatedBy?.username).filter((u): u is string => Boolean(u)))];
    return withTrailers(subject, body, [['Cluster', cluster], ...writeIds.values(), ...impersonators.map((u): [string, string] => ['Impersonated-By', u])]);
  }
}
