import type { ChangeEvent } from '@gitops-reverser/contract';
import type { AuthorMapping } from '../config/config-types.js';

/**
 * `attribution.authors`: who to name for a username (a display name and email where the source gave
 * none), and for writes nobody is known to have made, the author a field manager stands for (a
 * GitOps controller, e.g. kustomize-controller -> "flux"); such a commit says `Attribution:
 * field-manager`. A field manager not listed is only shown (`Field-Manager:`), never taken for the author.
 */
export class AuthorDirectory {
  private readonly byUsername = new Map<string, AuthorMapping>();
  private readonly byFieldManager = new Map<string, AuthorMapping>();

  constructor(mappings: readonly AuthorMapping[]) {
    for (const mapping of mappings) {
      if (mapping.username) this.byUsername.set(mapping.username, mapping);
      if (mapping.fieldManager) this.byFieldManager.set(mapping.fieldManager, mapping);
    }
  }

  /** The event with its author named as configured (unchanged when nothing applies). */
  name(event: ChangeEvent): ChangeEvent {
    if (event.actor) {
      const mapping = this.byUsername.get(event.actor.username);
      if (!mapping || (event.actor.name && event.actor.email)) return event;
      return { ...event, actor: { ...event.actor, name: event.actor.name ?? mapping.name, ...(event.actor.email || mapping.email ? { email: event.actor.email ?? mapping.email } : {}) } };
    }
    if (event.phase === 'seed' || !event.fieldManager) return event;
    const mapping = this.byFieldManager.get(event.fieldManager);
    if (!mapping) return event;
    return {
      ...event,
      actor: { username: mapping.name, name: mapping.name, ...(mapping.email ? { email: mapping.email } : {}) },
      attribution: { by: 'field-manager', id: event.fieldManager },
    };
  }
}
