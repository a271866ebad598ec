import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'functions/core/**/*.test.ts',
            'dev/**/*.unit.test.ts',
            'db/**/*.test.ts',
            'gpu-workers/**/*.test.ts',
            'web/**/*.unit.test.ts',
          ],
          // Domain code that needs Postgres runs with the edge project's local cloud.
          exclude: ['**/*.db.test.ts', '**/node_modules/**'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'edge',
          include: ['functions/**/*.test.ts'],
          exclude: ['functions/core/**/!(*.db).test.ts', '**/node_modules/**'],
          globalSetup: ['tests/harness/global-setup.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Each file boots its own processes; running them one at a time keeps a 2-core machine responsive.
          fileParallelism: false,
        },
      },
    ],
  },
});
