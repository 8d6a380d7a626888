/**
 * Loads and compiles `wasm/dense.wasm` (or its relaxed-SIMD build) once per process. The URL is relative to
 * this file, and both `src/runtime/` (tests) and `dist/` (tsup bundles into one
 * file) sit one or two levels below the package root, so both candidates are tried.
 */
import { readFile } from 'node:fs/promises';
import { SparqError } from '@sparq/tensor';

/** Exports of `assembly/dense.ts` (pointers are byte offsets into the shared memory). */
export interface DenseExports {
  /** Dense matmul: the chunks of output columns this thread claims from the job's counter (CTL.WORK). */
  matmul(tid: number, nth: number, a: number, w: number, out: number, m: number, k: number, n: number, ap: number): void;
  /** Packs a [m, k]'s 4-row strips at `dst` for the GEMM register tiles ({@link stripBytes} bytes; main thread). */
  packStrips(a: number, dst: number, m: number, k: number): void;
  /**
   * `matmul` for W [n, k] stored as half precision (`kind`: {@link HALF_KIND}), widened exactly on the fly;
   * the GEMM widens 64-row blocks into `scratch` (64·k·4 bytes per thread).
   */
  matmulHalf(tid: number, nth: number, a: number, w: number, out: number, m: number, k: number, n: number, kind: number, scratch: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  readSum(tid: number, nth: number, ptr: number, bytes: number): number;
  simdPeak(iters: number, operands: number): number;
  /** Compressed matmul: the chunks of rows of W this thread claims (CTL.WORK); `desc` points at the call descriptor (assembly/lib/packed.ts). */
  packedMatmul(tid: number, nth: number, desc: number): void;
  /** Quantizes the GEMV activations of `desc` to int8 (main thread, before `packedMatmul`). */
  prepareActInt8(desc: number): void;
  /** Transposes the activations of `desc` into 16-row panels for the sparse 2:4 GEMM (main thread). */
  preparePanels(desc: number): void;
  /** Causal GQA attention: the chunks of (row, head) pairs this thread claims (CTL.WORK); `desc` as in assembly/lib/attention.ts. */
  attention(tid: number, nth: number, desc: number): void;
}

/**
 * `kind` argument of `matmulHalf` (HALF_* in assembly/lib/half.ts); the
 * `Scaled` kinds (GEMV only) take activations pre-scaled by 2^112.
 */
export const HALF_KIND = { f16Finite: 0, f16: 1, bf16: 2, f16FiniteScaled: 3, f16Scaled: 4 } as const;

/** Rows of W the half-precision GEMM widens per block (NB in assembly/lib/dense-tiles.ts). */
export const HALF_GEMM_ROWS = 64;

/**
 * Bytes of a [m, k]'s 4-row strips as `packStrips` writes them (rows below m & ~3; per strip k rounded up to 4
 * columns × 16 bytes), read by the GEMM register tiles of the dense and the decode-then-tiles GEMMs.
 */
export const stripBytes = (m: number, k: number): number => Math.floor(m / 4) * Math.ceil(k / 4) * 64;

/** Pages the module declares as its minimum memory (`--initialMemory` in build-wasm). */
export const MODULE_MIN_PAGES = 2;
/** 4 GiB: the wasm32 limit, also the module's declared maximum. */
export const MAX_PAGES = 65536;

/** Which build of the module runs: baseline SIMD, or relaxed SIMD (`wasm/dense-relaxed.wasm`). */
export type SimdVariant = 'baseline' | 'relaxed';

const FILE: Record<SimdVariant, string> = { baseline: 'dense.wasm', relaxed: 'dense-relaxed.wasm' };
const bytesCache = new Map<SimdVariant, Promise<Uint8Array<ArrayBuffer>>>();
const compiled = new Map<SimdVariant, Promise<WebAssembly.Module>>();

function moduleBytes(variant: SimdVariant): Promise<Uint8Array<ArrayBuffer>> {
  let p = bytesCache.get(variant);
  if (!p) {
    p = (async () => {
      const name = FILE[variant];
      const candidates = [new URL(`../wasm/${name}`, import.meta.url), new URL(`../../wasm/${name}`, import.meta.url)];
      for (const url of candidates) {
        try {
          return new Uint8Array(await readFile(url));
        } catch {
          continue;
        }
      }
      bytesCache.delete(variant);
      throw new SparqError('E_NOT_FOUND', `cpu-wasm: wasm/${name} not found next to ${import.meta.url}`, {
        hint: 'run `pnpm --filter @sparq/backend-cpu-wasm build` (or `node scripts/build-wasm.mjs`) first',
      });
    })();
    bytesCache.set(variant, p);
  }
  return p;
}

/**
 * Whether this engine accepts the relaxed-SIMD build (V8 behind
 * `--experimental-wasm-relaxed-simd` in Node 20; shipped in later V8 releases).
 */
export async function relaxedSimdAvailable(): Promise<boolean> {
  try {
    return WebAssembly.validate(await moduleBytes('relaxed'));
  } catch {
    return false;
  }
}

/**
 * Turns on the engine's relaxed-SIMD support for this process when the engine
 * has it behind a flag (Node 20's V8 11.3: `--experimental-wasm-relaxed-simd`;
 * later V8 releases ship it on), so that `simd: 'auto'` picks the relaxed build:
 * 1.1–1.4× faster INT4 and 2:4 + INT4 GEMVs here with bit-identical results
 * (their relaxed operations are exact on the operands they get; the tests
 * compare the builds bit for bit), and 1.2–1.4× faster dense and INT4 GEMMs,
 * whose tiles use a fused multiply-add (results equal up to f32 rounding). It sets a V8 flag for the whole
 * process, which Node documents as something to do with care, so it is for
 * applications that own their process (the `sparq` CLI calls it at start-up),
 * not for libraries. Call it before the first backend is created. Resolves to
 * whether the relaxed build validates afterwards.
 * @example
 * await enableRelaxedSimd();
 * const be = createCpuWasmBackend(); // simd: 'auto' → the relaxed build
 */
export async function enableRelaxedSimd(): Promise<boolean> {
  if (await relaxedSimdAvailable()) return true;
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return relaxedSimdAvailable();
}

/**
 * The compiled module of `variant` (`'auto'`: relaxed when the engine validates
 * it, else baseline); compiled once per process and shared by every backend
 * instance and worker. GEMV results are bit-identical between variants (their
 * relaxed operations are exact on the operands they get); the GEMM tiles use
 * `relaxed_madd`, so GEMM results (m > 1) differ by f32 rounding (gemmMadd in
 * assembly/lib/dense-tiles.ts).
 */
export async function loadDenseModule(variant: SimdVariant | 'auto' = 'baseline'): Promise<{ module: WebAssembly.Module; variant: SimdVariant }> {
  const v: SimdVariant = variant === 'auto' ? ((await relaxedSimdAvailable()) ? 'relaxed' : 'baseline') : variant;
  let p = compiled.get(v);
  if (!p) {
    p = moduleBytes(v).then((bytes) => {
      if (v === 'relaxed' && !WebAssembly.validate(bytes)) {
        throw new SparqError('E_KERNEL_UNSUPPORTED', 'cpu-wasm: this engine does not support WebAssembly relaxed SIMD', {
          hint: "use simd: 'auto' or 'baseline' (Node 20: run with --experimental-wasm-relaxed-simd)",
        });
      }
      return WebAssembly.compile(bytes);
    });
    p.catch(() => compiled.delete(v));
    compiled.set(v, p);
  }
  return { module: await p, variant: v };
}

/** Instantiates the module on a shared memory (main thread side). */
export function instantiateDense(module: WebAssembly.Module, memory: WebAssembly.Memory): DenseExports {
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  const fn = (name: keyof DenseExports): ((...args: number[]) => number) => {
    const f = exports[name];
    if (typeof f !== 'function') throw new SparqError('E_INTERNAL', `cpu-wasm: dense.wasm does not export ${name}`);
    return f as (...args: number[]) => number;
  };
  return {
    matmul: fn('matmul'),
    packStrips: fn('packStrips'),
    matmulHalf: fn('matmulHalf'),
    transpose: fn('transpose'),
    readSum: fn('readSum'),
    simdPeak: fn('simdPeak'),
    packedMatmul: fn('packedMatmul'),
    prepareActInt8: fn('prepareActInt8'),
    preparePanels: fn('preparePanels'),
    attention: fn('attention'),
  };
}
