import { defineConfig } from 'vitest/config';

/**
 * Two projects:
 * - unit: pure logic and everything that runs in-process or against local git repos;
 * - cluster: tests against the real control plane that packages/testkit's globalSetup starts once
 *   per run (`*.cluster.test.ts`). These files run one at a time: they share that control plane
 *   and its audit webhook port.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/*.cluster.test.ts', '**/node_modules/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['packages/*/test/**/*.cluster.test.ts', 'test/**/*.cluster.test.ts'],
          globalSetup: ['packages/testkit/dist/global-setup.js'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
