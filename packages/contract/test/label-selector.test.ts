import { describe, expect, it } from 'vitest';
import { labelSelectorMatches, labelSelectorProblem, labelSelectorString, ruleLabelVerdict, type RuleConfig } from '../src/index.js';

const rule = (extra: Partial<RuleConfig>): RuleConfig => ({
  target: 't',
  scope: 'Namespaced',
  clusters: [],
  namespaces: [],
  apiGroups: [],
  apiVersions: [],
  resources: ['*'],
  operations: [],
  plaintextSecrets: false,
  keyPath: 'rules[0]',
  ...extra,
});

describe('label selectors (Kubernetes semantics)', () => {
  it('matchLabels needs every pair', () => {
    const selector = { matchLabels: { app: 'web', tier: 'front' } };
    expect(labelSelectorMatches(selector, { app: 'web', tier: 'front', extra: 'x' })).toBe(true);
    expect(labelSelectorMatches(selector, { app: 'web' })).toBe(false);
    expect(labelSelectorMatches(selector, { app: 'web', tier: 'back' })).toBe(false);
    expect(labelSelectorMatches(selector, undefined)).toBe(false);
  });

  it('In, NotIn, Exists and DoesNotExist', () => {
    const inSet = { matchExpressions: [{ key: 'env', operator: 'In' as const, values: ['prod', 'stage'] }] };
    expect(labelSelectorMatches(inSet, { env: 'prod' })).toBe(true);
    expect(labelSelectorMatches(inSet, { env: 'dev' })).toBe(false);
    expect(labelSelectorMatches(inSet, {})).toBe(false);
    const notIn = { matchExpressions: [{ key: 'env', operator: 'NotIn' as const, values: ['dev'] }] };
    // NotIn selects objects without the key, as Kubernetes does.
    expect(labelSelectorMatches(notIn, {})).toBe(true);
    expect(labelSelectorMatches(notIn, { env: 'prod' })).toBe(true);
    expect(labelSelectorMatches(notIn, { env: 'dev' })).toBe(false);
    const exists = { matchExpressions: [{ key: 'owner', operator: 'Exists' as const }] };
    expect(labelSelectorMatches(exists, { owner: '' })).toBe(true);
    expect(labelSelectorMatches(exists, {})).toBe(false);
    const absent = { matchExpressions: [{ key: 'legacy', operator: 'DoesNotExist' as const }] };
    expect(labelSelectorMatches(absent, {})).toBe(true);
    expect(labelSelectorMatches(absent, { legacy: 'true' })).toBe(false);
  });

  it('an empty selector selects everything; an unknown operator nothing', () => {
    expect(labelSelectorMatches({}, undefined)).toBe(true);
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'Near' as never }] }, { a: 'b' })).toBe(false);
  });

  it('renders the labelSelector query syntax, sorted so equal selectors are equal strings', () => {
    expect(
      labelSelectorString({
        matchLabels: { tier: 'front', app: 'web' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['stage', 'prod'] },
          { key: 'zone', operator: 'NotIn', values: ['b'] },
          { key: 'owner', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('!legacy,app=web,env in (prod,stage),owner,tier=front,zone notin (b)');
  });

  it('names selectors Kubernetes would refuse', () => {
    expect(labelSelectorProblem({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).toMatch(/needs at least one value/);
    expect(labelSelectorProblem({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })).toMatch(/takes no values/);
    expect(labelSelectorProblem({ matchLabels: { 'bad key!': 'x' } })).toMatch(/not a label key/);
    expect(labelSelectorProblem({ matchLabels: { 'example.com/team': 'a b' } })).toMatch(/not a label value/);
    expect(labelSelectorProblem({ matchLabels: { 'example.com/team': 'shop', empty: '' } })).toBeUndefined();
  });
});

describe('ruleLabelVerdict', () => {
  const object = (labels?: Record<string, string>) => ({ metadata: { name: 'x', ...(labels ? { labels } : {}) } });

  it('a rule without selectors selects whatever its type and namespaces cover', () => {
    expect(ruleLabelVerdict(rule({}), {})).toBe('selected');
  });

  it('checks the object labels and the namespace labels', () => {
    const r = rule({ objectSelector: { matchLabels: { app: 'web' } }, namespaceSelector: { matchLabels: { team: 'shop' } } });
    expect(ruleLabelVerdict(r, { object: object({ app: 'web' }), namespaceLabels: { team: 'shop' } })).toBe('selected');
    expect(ruleLabelVerdict(r, { object: object({ app: 'db' }), namespaceLabels: { team: 'shop' } })).toBe('unselected');
    expect(ruleLabelVerdict(r, { object: object({ app: 'web' }), namespaceLabels: { team: 'ops' } })).toBe('unselected');
  });

  it('labels it does not have make it neither select nor unselect', () => {
    const r = rule({ namespaceSelector: { matchLabels: { team: 'shop' } } });
    expect(ruleLabelVerdict(r, { object: object({}) })).toBe('unknown');
    expect(ruleLabelVerdict(rule({ objectSelector: { matchLabels: { app: 'web' } } }), {})).toBe('unknown');
    // Known labels that fail decide, whatever else is missing.
    expect(ruleLabelVerdict(rule({ objectSelector: { matchLabels: { app: 'web' } }, namespaceSelector: { matchLabels: { team: 'shop' } } }), { object: object({ app: 'db' }) })).toBe('unselected');
  });
});
