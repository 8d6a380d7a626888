#!/usr/bin/env node
// Compiles assembly/*.ts (AssemblyScript) to wasm/*.wasm. Skips a module whose
// .wasm is newer than every source and this script, so `pnpm test` stays quick.
//
// Flags: SIMD + threads; the memory is imported from `env.memory`, shared, with
// a 4 GiB maximum (65536 pages) so the JS side can grow it for large weights.
// `--runtime stub` and no strings keep the module free of data segments, which
// matters: every worker instantiates the module on the same shared memory.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'assembly');
const outDir = join(root, 'wasm');
mkdirSync(outDir, { recursive: true });

const FLAGS = [
  '-O3',
  '--noAssert',
  '--runtime', 'stub',
  '--enable', 'simd',
  '--enable', 'threads',
  '--importMemory',
  '--sharedMemory',
  '--initialMemory', '2',
  '--maximumMemory', '65536',
  '--noExportMemory',
];

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : -1);
const selfTime = mtime(fileURLToPath(import.meta.url));
// Entry points are assembly/*.ts; assembly/lib/*.ts are modules they import.
const sources = readdirSync(srcDir).filter((f) => f.endsWith('.ts'));
const libDir = join(srcDir, 'lib');
const libs = existsSync(libDir) ? readdirSync(libDir).filter((f) => f.endsWith('.ts')).map((f) => join(libDir, f)) : [];
const newestSource = Math.max(selfTime, ...sources.map((f) => mtime(join(srcDir, f))), ...libs.map(mtime));

// Each entry is built twice: baseline SIMD, and with relaxed SIMD (`-relaxed.wasm`),
// which the runtime loads when the engine validates it (kernels branch on
// ASC_FEATURE_RELAXED_SIMD at compile time; they only use relaxed operations
// whose results are fully determined for the operands they pass).
const VARIANTS = [
  { suffix: '', extra: [] },
  { suffix: '-relaxed', extra: ['--enable', 'relaxed-simd'] },
];
for (const file of sources) {
  for (const v of VARIANTS) {
    const name = file.replace(/\.ts$/, `${v.suffix}.wasm`);
    const out = join(outDir, name);
    if (mtime(out) > newestSource && process.argv[2] !== '--force') continue;
    const asc = join(root, 'node_modules', '.bin', 'asc');
    execFileSync(asc, [join(srcDir, file), '-o', out, ...FLAGS, ...v.extra], { stdio: 'inherit' });
    console.log(`build-wasm: ${file} -> wasm/${name}`);
  }
}
