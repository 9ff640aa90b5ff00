import { serviceToken } from './adapter.js';
import type { ResourceIdentity } from './identity.js';

/**
 * What a sink currently holds for an object on a target (for git: the file at the branch head this
 * process knows, read without network or a writer). An encoder uses it to keep output stable: when
 * the stored ciphertext already holds the same plaintext, it returns the stored object and nothing
 * changes (no churn across restarts and replicas). It may be behind the remote (another replica
 * writes): then an unchanged object may be encrypted anew, never lost.
 */
export interface StoredContent {
  /** The stored text for `identity` on `targetName`, or undefined when there is none. */
  read(targetName: string, identity: ResourceIdentity): Promise<string | undefined>;
}

/** The well-known token sinks provide StoredContent under (sink-git does). */
export const StoredContentService = serviceToken<StoredContent>('sink.stored-content', {
  providedBy: '@gitops-reverser/sink-git',
  description: 'the content a sink holds for an object',
});
