import type { GitDirectory } from './git-directory.js';
import { TreeStore } from './tree-store.js';

/**
 * Reads files of one branch from the local git directory as it is on disk: the local repository, or
 * the clone of a remote in `cacheDir`. No fetch, no writer, nothing created: what this process knows of
 * the branch without asking the remote (on a replica that does not write it, possibly behind).
 */
export class BranchReader {
  private readonly trees: TreeStore;

  constructor(
    private readonly directory: GitDirectory,
    private readonly branch: string,
  ) {
    this.trees = new TreeStore(directory);
  }

  /** The content of a file at the local branch head; undefined without a repository, branch or file. */
  async readFile(path: string): Promise<string | undefined> {
    if (!this.directory.exists()) return undefined;
    const head = await this.directory.readBranch(this.branch);
    if (!head) return undefined;
    return await this.trees.fileText((await this.directory.readCommit(head)).tree, path);
  }
}
