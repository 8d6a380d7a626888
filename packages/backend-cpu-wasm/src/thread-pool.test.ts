// The worker pool must not burn CPU while idle: workers spin only briefly
// (WORKER_SPIN) after a job, then sleep in Atomics.wait until notified. On a
// shared 2-core machine a spinning pool would steal the main thread's core.
import { createRng, Tensor } from '@sparq/tensor';
import { describe, expect, it } from 'vitest';
import { createCpuWasmBackend } from './index';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cpu-wasm thread pool', () => {
  it('sleeps between jobs instead of spinning (process CPU time stays near zero while idle)', async () => {
    const be = createCpuWasmBackend({ threads: 2, minParallelWork: 0 });
    const rng = createRng(3);
    const a = new Tensor('f32', [1, 256], rng.fillNormal(new Float32Array(256)) as Float32Array);
    const b = new Tensor('f32', [64, 256], rng.fillNormal(new Float32Array(64 * 256)) as Float32Array);
    try {
      for (let i = 0; i < 5; i++) await be.run('matmulDense', { a, b }, { transposeB: true }); // workers woken
      await sleep(50); // past the short spin
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await sleep(500);
      const d = process.cpuUsage(c0);
      const wallMs = performance.now() - t0;
      const cpuMs = (d.user + d.system) / 1000;
      // One spinning worker would use ~wallMs of CPU; sleeping workers use almost none.
      expect(cpuMs).toBeLessThan(0.2 * wallMs);
      // …and the pool still answers after sleeping.
      const y = await be.run('matmulDense', { a, b }, { transposeB: true });
      expect(y.shape).toEqual([1, 64]);
    } finally {
      await be.dispose();
    }
  });
});
