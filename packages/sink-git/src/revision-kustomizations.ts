import type { GitObjectReader } from './git-object-reader.js';
import { KUSTOMIZATION_FILES, readKustomization } from './kustomizations.js';

/**
 * The `namespace:` of folders' kustomizations at any revision, read through `git cat-file --batch`
 * (`<revision>:<folder>/kustomization.yaml`) and kept per revision and folder: the stored history
 * resolves a document without `metadata.namespace` as the writer did when it held it.
 */
export class RevisionKustomizations {
  private readonly namespaces = new Map<string, Promise<string | undefined>>();

  constructor(private readonly reader: GitObjectReader) {}

  /** The `namespace:` of each folder's kustomization at `revision` (a commit, or `<commit>^` for its parent): undefined for a folder without one. */
  async namespacesAt(revision: string, folders: readonly string[]): Promise<Map<string, string | undefined>> {
    const values = await Promise.all(folders.map((folder) => this.read(revision, folder)));
    return new Map(folders.map((folder, i) => [folder, values[i]]));
  }

  private read(revision: string, folder: string): Promise<string | undefined> {
    let known = this.namespaces.get(key(revision, folder));
    if (!known) {
      known = (async () => {
        // kustomize reads the first of these names a folder has.
        for (const name of KUSTOMIZATION_FILES) {
          const path = folder === '' ? name : `${folder}/${name}`;
          const text = await this.reader.readText(`${revision}:${path}`);
          if (text !== undefined) return readKustomization(path, '', text).namespace;
        }
        return undefined;
      })();
      this.namespaces.set(key(revision, folder), known);
    }
    return known;
  }
}

function key(revision: string, folder: string): string {
  return `${revision}\0${folder}`;
}
