#!/usr/bin/env node
// Bundles the GPU-side entry points (bench/cuda-bench.ts, bench/gpu-conformance.ts)
// into self-contained ESM files under native/build/gpu-bundle/, next to the
// built addon, so a GPU machine with Node 20 but without node_modules or
// network can run them (scripts/gpu-check.sh uses them when node_modules is
// absent). Carry native/build to that machine. vitest, imported by the
// conformance package's test registrar but not used by these entry points,
// is replaced by a stub that throws if it is ever called.
import { build } from 'tsup';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(pkg, 'native', 'build', 'gpu-bundle');
mkdirSync(out, { recursive: true });
const stub = join(out, 'vitest-stub.mjs');
writeFileSync(stub, "const no = () => { throw new Error('vitest is not available in the GPU bundle'); };\nexport const describe = Object.assign(no, { skipIf: () => no, runIf: () => no });\nexport const it = no, expect = no, beforeAll = no, afterAll = no;\n");
await build({
  entry: { 'cuda-bench': join(pkg, 'bench', 'cuda-bench.ts'), 'gpu-conformance': join(pkg, 'bench', 'gpu-conformance.ts') },
  outDir: out,
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  outExtension: () => ({ js: '.mjs' }),
  // Inline every package (workspace sources via the @sparq/source condition); Node built-ins stay external.
  noExternal: [/.*/],
  splitting: false,
  dts: false,
  clean: false,
  silent: true,
  config: false,
  esbuildOptions(o) {
    o.conditions = ['@sparq/source'];
    o.alias = { vitest: stub };
  },
});
console.log(`GPU bundle written to ${out}`);
