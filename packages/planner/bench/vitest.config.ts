import { defineConfig } from 'vitest/config';

// The stories260K planner measurement run (`pnpm bench`): a vitest "test" only so the
// workspace TypeScript sources resolve without a build; never part of `pnpm test`
// (the package's own config includes src/**/*.test.ts only).
const conditions = ['@sparq/source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@sparq/source'] } },
  test: { include: ['bench/**/*.run.ts'], testTimeout: 4 * 3600_000, hookTimeout: 600_000, reporters: ['verbose'], fileParallelism: false },
});
