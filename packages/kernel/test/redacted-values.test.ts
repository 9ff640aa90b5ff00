import { describe, expect, it } from 'vitest';
import { fieldChanges, secretValues } from '../src/cli/field-diff.js';
import { isUnder, withoutRedactedValues } from '../src/cli/redacted-values.js';

const marker = 'REDACTED:sha256-hmac:0123456789ab';

describe('values the credential gate redacted, for restore and diff', () => {
  it('are left out of what restore applies, with their paths; a list holding one is left out whole', () => {
    const stored = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { url: `postgres://app:${marker}@db/app`, color: 'blue' },
      spec: {
        args: ['--verbose', `--token=${marker}`],
        env: [
          { name: 'A', value: marker },
          { name: 'B', value: 'b' },
        ],
      },
    };
    const { object, redacted } = withoutRedactedValues(stored);
    expect(redacted).toEqual(['data.url', 'spec.args', 'spec.env[0].value']);
    expect(object).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { color: 'blue' }, spec: { env: [{ name: 'A' }, { name: 'B', value: 'b' }] } });
    expect(withoutRedactedValues({ apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'b' } })).toEqual({ object: { apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'b' } }, redacted: [] });
    expect(isUnder('spec.args[1]', ['spec.args'])).toBe(true);
    expect(isUnder('spec.argsOther', ['spec.args'])).toBe(false);
  });

  it('hide the live value across from a marker', () => {
    const stored = { data: { url: `postgres://app:${marker}@db/app` } };
    const live = { data: { url: 'postgres://app:hunter2-live@db/app' } };
    expect(fieldChanges(live, stored, secretValues(stored))).toEqual([{ path: 'data.url', before: '(hidden)', after: '(hidden)' }]);
  });
});
