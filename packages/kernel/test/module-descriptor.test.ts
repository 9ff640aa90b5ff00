import { describe, expect, it } from 'vitest';
import { moduleDescriptor } from '../src/plugin/module-descriptor.js';

// The module's namespace as import() gives it; the real loading is tested through the CLI (cli.test.ts).
const descriptor = { meta: { name: 'd' } };
const problemOf = (value: unknown) => ((value as { meta?: unknown } | undefined)?.meta ? undefined : 'meta is missing');

describe('moduleDescriptor', () => {
  it('takes the default export of an ES module as it is, even with a .default inside', () => {
    expect(moduleDescriptor({ default: { default: descriptor } }, '/x/adapter.mjs', problemOf)).toEqual({ candidate: { default: descriptor } });
  });

  it('takes module.exports of a CommonJS module, else its exports.default (with or without __esModule)', () => {
    expect(moduleDescriptor({ default: descriptor }, '/x/adapter.cjs', problemOf).candidate).toBe(descriptor);
    expect(moduleDescriptor({ default: { default: descriptor } }, '/x/adapter.cjs', problemOf).candidate).toBe(descriptor);
    expect(moduleDescriptor({ __esModule: true, default: { __esModule: true, default: descriptor } } as { default: unknown }, '/x/adapter.js', problemOf).candidate).toBe(descriptor);
  });

  it('names what a CommonJS module exports when neither is a descriptor', () => {
    expect(moduleDescriptor({ default: { sink: descriptor } }, '/x/adapter.cjs', problemOf).commonJsProblem).toBe(
      'a CommonJS module whose module.exports (keys: sink) is not an adapter descriptor (meta is missing), and it has no exports.default',
    );
    expect(moduleDescriptor({ default: { __esModule: true, default: { name: 'x' } } }, '/x/adapter.cjs', problemOf).commonJsProblem).toBe(
      'a CommonJS module whose module.exports (keys: default) is not an adapter descriptor (meta is missing), and neither is its exports.default (meta is missing)',
    );
  });
});
