import { describe, expect, it } from 'vitest';
import { namespaceByPlace } from '../src/document-place.js';
import { PathLayout } from '../src/path-layout.js';

// What a document without metadata.namespace says of its namespace by where it is (ADR 0020).

const head = (kind: string, name: string, group = '') => ({ group, version: 'v1', kind, name, namespace: undefined });

describe('namespaceByPlace', () => {
  const target = { path: 'clusters/dev', layout: new PathLayout() };

  it('takes the namespace of the path only at the path the layout gives the object', () => {
    expect(namespaceByPlace(target, 'clusters/dev/team-a/configmaps/settings.yaml', head('ConfigMap', 'settings'))).toBe('team-a');
    expect(namespaceByPlace(target, 'clusters/dev/team-a/secrets/db.sops.yaml', head('Secret', 'db'))).toBe('team-a');
    expect(namespaceByPlace(target, 'clusters/dev/team-a/apps/deployments/web.yaml', head('Deployment', 'web', 'apps'))).toBe('team-a');
    // A kind Kubernetes does not serve itself: its resource is whatever the path says.
    expect(namespaceByPlace(target, 'clusters/dev/team-a/example.com/widgets/w.yaml', head('Widget', 'w', 'example.com'))).toBe('team-a');
  });

  it('says nothing for a path that only has the layout`s shape: a person`s folder, another name, another kind', () => {
    expect(namespaceByPlace(target, 'clusters/dev/apps/team-a/all.yaml', head('ConfigMap', 'settings'))).toBeUndefined();
    expect(namespaceByPlace(target, 'clusters/dev/apps/team-a/settings.yaml', head('ConfigMap', 'settings'))).toBeUndefined();
    expect(namespaceByPlace(target, 'clusters/dev/team-a/configmaps/other.yaml', head('ConfigMap', 'settings'))).toBeUndefined();
    expect(namespaceByPlace(target, 'clusters/dev/team-a/secrets/settings.yaml', head('ConfigMap', 'settings'))).toBeUndefined();
    expect(namespaceByPlace(target, 'elsewhere/team-a/configmaps/settings.yaml', head('ConfigMap', 'settings'))).toBeUndefined();
    expect(namespaceByPlace({ path: '', layout: new PathLayout('{kind}-{name}.yaml') }, 'ConfigMap-settings.yaml', head('ConfigMap', 'settings'))).toBeUndefined();
  });

  it('a kind Kubernetes serves cluster-scoped is cluster-scoped wherever it is', () => {
    expect(namespaceByPlace(target, 'clusters/dev/apps/team-a/all.yaml', head('Namespace', 'team-a'))).toBe('');
    expect(namespaceByPlace(target, 'clusters/dev/_cluster/namespaces/team-a.yaml', head('Namespace', 'team-a'))).toBe('');
    expect(namespaceByPlace(target, 'clusters/dev/_cluster/example.com/gizmos/g.yaml', head('Gizmo', 'g', 'example.com'))).toBe('');
  });
});
