import type { SinkPartition, TargetConfig, TargetPlan, TargetProblem } from '@gitops-reverser/contract';
import { branchAllowed } from './branch-pattern.js';
import { GitErrorCodes } from './git-error-codes.js';
import { DEFAULT_LAYOUT, PathLayout } from './path-layout.js';
import { isRemoteUrl, partitionKeyOf, redactUrl, remoteUrlProblem, repoLocationOf } from './repo-location.js';
import type { ProviderConfig } from './provider-config.js';
import { sshAuthProblem } from './ssh-auth-config.js';
import { isSshUrl, parseSshUrl } from './ssh-url.js';
import { normalizeTargetPath, pathsOverlap, targetPathProblem } from './target-path.js';

export type PruneMode = 'Never' | 'OnEvent' | 'Always';

/**
 * What the writer does with `kustomization.yaml` files under a target: `Maintain` (default) keeps
 * the `resources:` of the kustomization that governs a file in step with the files it creates and
 * removes; `Create` also gives every folder it writes into a kustomization of its own, listed by the
 * one above it up to the target folder; `Ignore` never touches one.
 */
export type KustomizationMode = 'Maintain' | 'Create' | 'Ignore';

/** A target's options (`targets[].with`) as the git sink reads them. */
export interface GitTargetOptions {
  readonly provider: string;
  readonly branch: string;
  /** Folder inside the repository; "" is the repository root. */
  readonly path: string;
  readonly prune: PruneMode;
  readonly layout?: string;
  readonly kustomizations: KustomizationMode;
  /** Namespaced objects are written without `metadata.namespace` (a kustomization or the GitOps tool sets it). */
  readonly omitNamespace: boolean;
}

/** One branch of one repository: what a BranchWriter owns. */
export interface GitPartition extends SinkPartition {
  /** `{repo}#{branch}`, the repository without credentials. */
  readonly key: string;
  readonly provider: ProviderConfig;
  readonly branch: string;
}

/** A target as its writer uses it: folder, prune mode and compiled layout. */
export interface GitTarget {
  readonly name: string;
  readonly path: string;
  readonly prune: PruneMode;
  readonly layout: PathLayout;
  readonly kustomizations: KustomizationMode;
  readonly omitNamespace: boolean;
}

export function gitTargetOptions(target: TargetConfig): GitTargetOptions {
  const options = target.with as Partial<GitTargetOptions>;
  return {
    provider: String(options.provider ?? ''),
    branch: String(options.branch ?? ''),
    path: normalizeTargetPath(String(options.path ?? '')),
    prune: (options.prune ?? 'OnEvent') as PruneMode,
    ...(options.layout ? { layout: options.layout } : {}),
    kustomizations: (options.kustomizations ?? 'Maintain') as KustomizationMode,
    omitNamespace: options.omitNamespace === true,
  };
}

/**
 * Plans targets onto (repository, branch) partitions and reports every target the git sink cannot
 * serve: unknown provider, branch not allowed, unsafe folder, folders that overlap on one branch (one
 * target's prune would delete the other's files), URLs the engine cannot reach, bad layouts.
 */
export function planGitTargets(
  targets: readonly TargetConfig[],
  providers: readonly ProviderConfig[],
  canReach: (url: string) => boolean,
  unreachable: (provider: ProviderConfig) => { message: string; fix: string } = (provider) => ({
    message: `provider "${provider.name}" uses ${repoLocationOf(provider.url)}, which the isomorphic-git engine cannot reach (http and https only)`,
    fix: 'use an https:// URL with a token, or a local path',
  }),
): TargetPlan<GitPartition> {
  const problems: TargetProblem[] = [];
  const partitions = new Map<string, GitPartition>();
  const byName = new Map(providers.map((p) => [p.name, p]));
  const placed: { name: string; key: string; path: string }[] = [];
  for (const target of targets) {
    const options = gitTargetOptions(target);
    const problem = (path: string, code: string, message: string, fix: string) => problems.push({ target: target.name, path, code, message, fix });
    const provider = byName.get(options.provider);
    if (!provider) {
      problem(
        'with.provider',
        GitErrorCodes.PROVIDER,
        `provider "${options.provider}" is not defined in sink.with.providers`,
        providers.length > 0 ? `use one of: ${providers.map((p) => p.name).join(', ')}` : 'define it under sink.with.providers',
      );
      continue;
    }
    if (!branchAllowed(options.branch, provider.allowedBranches)) {
      problem(
        'with.branch',
        GitErrorCodes.BRANCH_NOT_ALLOWED,
        `branch "${options.branch}" is not in allowedBranches [${provider.allowedBranches.join(', ')}] of provider "${provider.name}"`,
        `use one of the allowed branches, or add "${options.branch}" to the provider's allowedBranches (globs allowed)`,
      );
      continue;
    }
    const written = String((target.with as { path?: unknown }).path ?? '');
    const pathProblem = targetPathProblem(written);
    if (pathProblem) {
      problem('with.path', GitErrorCodes.TARGET_PATH, `"${written}" ${pathProblem}`, 'use a relative folder inside the repository, e.g. "clusters/dev"');
      continue;
    }
    const urlProblem = remoteUrlProblem(provider.url);
    if (urlProblem) {
      problem(
        'with.provider',
        GitErrorCodes.PROVIDER_URL,
        `the url of provider "${provider.name}" (${redactUrl(provider.url)}) ${urlProblem}`,
        'fix sink.with.providers[].url as described; the password is never shown',
      );
      continue;
    }
    if (isSshUrl(provider.url)) {
      const sshProblem = parseSshUrl(provider.url) ? sshAuthProblem(provider.ssh) : 'is not an SSH URL this sink understands';
      if (sshProblem) {
        problem(
          'with.provider',
          GitErrorCodes.PROVIDER,
          `provider "${provider.name}" (${repoLocationOf(provider.url)}) ${sshProblem}`,
          'write ssh://user@host[:port]/path.git or user@host:path.git, with ssh: { privateKeyFile, knownHostsFile } (see the sink-git README)',
        );
        continue;
      }
    }
    if (isRemoteUrl(provider.url) && !canReach(provider.url)) {
      const { message, fix } = unreachable(provider);
      problem('with.provider', GitErrorCodes.UNSUPPORTED_URL, message, fix);
      continue;
    }
    try {
      new PathLayout(options.layout);
    } catch (error) {
      problem('with.layout', GitErrorCodes.LAYOUT, (error as Error).message, `start from the default layout (see the sink-git README)`);
      continue;
    }
    const clusters = target.clusters ?? [];
    const template = options.layout ?? DEFAULT_LAYOUT;
    if (clusters.length > 1 && !template.includes('{cluster}')) {
      problem(
        'with.layout',
        GitErrorCodes.LAYOUT_CLUSTERS,
        `the rules route objects of clusters ${clusters.join(', ')} to target "${target.name}", and its layout "${template}" has no {cluster}: objects with the same namespace and name in two clusters would write one file`,
        `add {cluster} to the layout, e.g. layout: "{cluster}/${DEFAULT_LAYOUT}", or give each cluster a target of its own (rules[].clusters)`,
      );
      continue;
    }
    if (options.omitNamespace && options.kustomizations === 'Create' && !template.includes('{namespace}')) {
      problem(
        'with.omitNamespace',
        GitErrorCodes.LAYOUT_NAMESPACE,
        `target "${target.name}" leaves metadata.namespace out and creates kustomizations that set it per folder, but its layout "${template}" has no {namespace}: objects of two namespaces could share a folder`,
        `add {namespace} to the layout (the default "${DEFAULT_LAYOUT}" has it), or keep the namespace in the files (omitNamespace: false)`,
      );
      continue;
    }
    const key = partitionKeyOf(provider.url, options.branch);
    const overlap = placed.find((other) => other.key === key && pathsOverlap(other.path, options.path));
    if (overlap) {
      problem(
        'with.path',
        GitErrorCodes.TARGET_OVERLAP,
        `"${options.path || '<repository root>'}" overlaps target "${overlap.name}" ("${overlap.path || '<repository root>'}") on the same repository and branch`,
        'give targets on one branch disjoint folders, e.g. clusters/a and clusters/b',
      );
      continue;
    }
    placed.push({ name: target.name, key, path: options.path });
    partitions.set(target.name, { key, provider, branch: options.branch });
  }
  return { partitions, problems };
}

/** Has a partition the fields planGitTargets gives it (a bare `{ key }` arrives after a reload removed it). */
export function isGitPartition(partition: SinkPartition): partition is GitPartition {
  return typeof (partition as Partial<GitPartition>).branch === 'string' && typeof (partition as Partial<GitPartition>).provider === 'object';
}
