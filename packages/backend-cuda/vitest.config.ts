import { defineConfig } from 'vitest/config';

// Resolve workspace packages to their TypeScript sources (the `@sparq/source`
// export condition), so tests never need a prior build of sibling packages.
const conditions = ['@sparq/source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@sparq/source'] } },
  test: { include: ['src/**/*.test.ts'], testTimeout: 120_000 },
});
