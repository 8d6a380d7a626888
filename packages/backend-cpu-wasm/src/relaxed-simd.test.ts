// enableRelaxedSimd flips a process-wide V8 flag, so it is checked in a child Node process started without
// --experimental-wasm-relaxed-simd (vitest's own workers run with it), importing the built package. The child is
// `node --input-type=module -e …`, which also checks that the pool's CommonJS worker source still starts there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/index.js');

describe('enableRelaxedSimd', () => {
  it('turns relaxed SIMD on in a process started without the flag, and auto then runs the relaxed build with the same results', () => {
    expect(existsSync(dist), `${dist} missing: build the package first (turbo runs build before test)`).toBe(true);
    const code = `
      const m = await import(${JSON.stringify(pathToFileURL(dist).href)});
      const before = await m.relaxedSimdAvailable();
      // The baseline build's result first, then the flag, then 'auto'.
      const { Tensor } = await import('@sparq/tensor');
      const a = new Tensor('f32', [1, 256], Float32Array.from({ length: 256 }, (_, i) => Math.sin(i)));
      const b = new Tensor('f32', [64, 256], Float32Array.from({ length: 64 * 256 }, (_, i) => Math.cos(i)));
      const run = async (simd) => {
        const be = m.createCpuWasmBackend({ threads: 2, minParallelWork: 0, simd });
        const y = await be.run('matmulDense', { a, b }, { transposeB: true });
        await be.dispose();
        return Array.from(y.data);
      };
      const base = await run('baseline');
      const enabled = await m.enableRelaxedSimd();
      const again = await m.enableRelaxedSimd();
      const relaxed = await run('relaxed');
      process.stdout.write(JSON.stringify({ flags: process.execArgv, before, enabled, again, same: JSON.stringify(base) === JSON.stringify(relaxed) }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: dirname(dist), encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { flags: string[]; before: boolean; enabled: boolean; again: boolean; same: boolean };
    expect(out.flags.filter((f) => f.includes('relaxed-simd'))).toEqual([]);
    // Node 20 (V8 11.3) has relaxed SIMD behind the flag; a later engine ships it on (before is then already true).
    expect(out.enabled).toBe(true);
    expect(out.again).toBe(true);
    expect(out.same).toBe(true);
    if (process.versions.node.startsWith('20.')) expect(out.before).toBe(false);
  });
});
