import { defineConfig } from 'vitest/config';

// Resolve workspace packages to their TypeScript sources (the `@sparq/source`
// export condition), so tests never need a prior build of sibling packages.
const conditions = ['@sparq/source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@sparq/source'] } },
  // Relaxed SIMD is behind a flag on Node 20: enable it so both wasm modules (relaxed and baseline) are tested,
  // and their bit-identity is checked, instead of skipping the relaxed one.
  test: { include: ['src/**/*.test.ts'], testTimeout: 120_000, execArgv: ['--experimental-wasm-relaxed-simd'] },
});
