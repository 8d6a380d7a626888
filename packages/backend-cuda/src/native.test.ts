// The native addon: built whenever nvcc is present, loadable without a GPU,
// and reporting the CUDA error (not crashing) when no device can be used.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addonPath, cudaStatus, loadCudaAddon } from './native';

function nvccPresent(): boolean {
  try {
    execFileSync(process.env.CUDA_HOME ? `${process.env.CUDA_HOME}/bin/nvcc` : 'nvcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return existsSync('/usr/local/cuda/bin/nvcc');
  }
}

const haveNvcc = nvccPresent();
if (!haveNvcc) console.log('nvcc not found: the addon is not built here; checking the "unavailable" path only');

describe('native addon', () => {
  it.runIf(haveNvcc)('was built by `pnpm build` (nvcc present) and loads without a GPU', () => {
    expect(existsSync(addonPath()), `${addonPath()} (run pnpm build first)`).toBe(true);
    const load = loadCudaAddon();
    expect(load.ok, load.ok ? '' : load.reason).toBe(true);
    if (!load.ok) return;
    expect([...load.addon.kernels].sort()).toEqual(
      [
        ...['cublas_f16', 'decode_f16', 'dense_f16', 'dense_f32', 'int4', 'nm_f32', 'sparse24', 'sparse24_int4', 'x_to_f16'],
        ...['rmsnorm', 'rope', 'attention', 'silu_mul', 'probe_bw', 'probe_mma', 'probe_mma_sp'],
      ].sort(),
    );
  });

  it.runIf(!haveNvcc)('without nvcc, reports the missing build as the reason', () => {
    const s = cudaStatus();
    expect(s.available).toBe(false);
    expect(s.reason).toMatch(/not built|failed to load/);
  });

  it('init() gives a structured status; without a device it names the CUDA error', () => {
    const s = cudaStatus();
    expect(typeof s.available).toBe('boolean');
    expect(Array.isArray(s.devices)).toBe(true);
    if (s.available) {
      expect(s.reason).toBe('');
      expect(s.devices.length).toBeGreaterThan(0);
      for (const d of s.devices) {
        expect(d.name.length).toBeGreaterThan(0);
        expect(d.memory).toBeGreaterThan(0);
      }
      expect(s.devices.some((d) => d.sm >= 80)).toBe(true);
    } else {
      console.log(`CUDA status on this machine: unavailable — ${s.reason}`);
      expect(s.reason.length).toBeGreaterThan(0);
      if (loadCudaAddon().ok) {
        // The addon loaded, so the reason comes from the CUDA runtime: a cudaError name and its text.
        expect(s.reason).toMatch(/^cudaError\w+: .+|compute capability/);
        expect(s.runtimeVersion).toBeGreaterThanOrEqual(12000);
      }
    }
  });

  it('a second status query returns the same answer without re-initialising', () => {
    expect(cudaStatus()).toEqual(cudaStatus());
  });
});
