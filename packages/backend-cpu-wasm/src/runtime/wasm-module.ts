/**
 * Loads and compiles `wasm/dense.wasm` once per process. The URL is relative to
 * this file, and both `src/runtime/` (tests) and `dist/` (tsup bundles into one
 * file) sit one or two levels below the package root, so both candidates are tried.
 */
import { readFile } from 'node:fs/promises';
import { SparqError } from '@sparq/tensor';

/** Exports of `assembly/dense.ts` (pointers are byte offsets into the shared memory). */
export interface DenseExports {
  matmul(tid: number, nth: number, a: number, w: number, out: number, m: number, k: number, n: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  readSum(tid: number, nth: number, ptr: number, bytes: number): number;
  simdPeak(iters: number, operands: number): number;
}

/** Pages the module declares as its minimum memory (`--initialMemory` in build-wasm). */
export const MODULE_MIN_PAGES = 2;
/** 4 GiB: the wasm32 limit, also the module's declared maximum. */
export const MAX_PAGES = 65536;

let compiled: Promise<WebAssembly.Module> | undefined;

/** The compiled module; reused by every backend instance and worker. */
export function loadDenseModule(): Promise<WebAssembly.Module> {
  compiled ??= (async () => {
    const candidates = [new URL('../wasm/dense.wasm', import.meta.url), new URL('../../wasm/dense.wasm', import.meta.url)];
    for (const url of candidates) {
      let bytes: Buffer;
      try {
        bytes = await readFile(url);
      } catch {
        continue;
      }
      return WebAssembly.compile(new Uint8Array(bytes));
    }
    compiled = undefined;
    throw new SparqError('E_NOT_FOUND', `cpu-wasm: wasm/dense.wasm not found next to ${import.meta.url}`, {
      hint: 'run `pnpm --filter @sparq/backend-cpu-wasm build` (or `node scripts/build-wasm.mjs`) first',
    });
  })();
  return compiled;
}

/** Instantiates the module on a shared memory (main thread side). */
export function instantiateDense(module: WebAssembly.Module, memory: WebAssembly.Memory): DenseExports {
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  const fn = (name: keyof DenseExports): ((...args: number[]) => number) => {
    const f = exports[name];
    if (typeof f !== 'function') throw new SparqError('E_INTERNAL', `cpu-wasm: dense.wasm does not export ${name}`);
    return f as (...args: number[]) => number;
  };
  return { matmul: fn('matmul'), transpose: fn('transpose'), readSum: fn('readSum'), simdPeak: fn('simdPeak') };
}
