/**
 * The CLI's name → backend factory registry. Library packages never register
 * backends globally; only the CLI picks one by name.
 */
import { createCpuWasmBackend, enableRelaxedSimd } from '@sparq/backend-cpu-wasm';
import { type Backend, SparqError, createReferenceBackend } from '@sparq/tensor';

const SIMD_BUILDS = ['auto', 'relaxed', 'baseline'] as const;
const isSimdBuild = (s: string): s is (typeof SIMD_BUILDS)[number] => (SIMD_BUILDS as readonly string[]).includes(s);

/**
 * The cpu-wasm backend with the SIMD build named by `SPARQ_WASM_SIMD` (default `auto`). The CLI owns its
 * process, so unless told `baseline` it turns on the engine's relaxed SIMD where that sits behind a flag
 * (Node 20): the relaxed build's INT4 and 2:4 + INT4 GEMVs run 1.1–1.4× faster with bit-identical results, and
 * its dense and INT4 GEMMs 1.2–1.4× faster with a fused multiply-add (results equal up to f32 rounding).
 * `SPARQ_INT8_PREFILL=1` sets the backend's `int8Prefill` (2–4-bit prefill on int8 activations, faster;
 * default 0: prefill stays f32-exact).
 */
async function cpuWasm(threads?: number): Promise<Backend> {
  const simd = process.env.SPARQ_WASM_SIMD ?? 'auto';
  if (!isSimdBuild(simd)) {
    throw new SparqError('E_ARG', `SPARQ_WASM_SIMD is "${simd}"; expected one of ${SIMD_BUILDS.join(', ')}`, { details: { found: simd, expected: SIMD_BUILDS } });
  }
  const int8Prefill = process.env.SPARQ_INT8_PREFILL ?? '0';
  if (int8Prefill !== '0' && int8Prefill !== '1') {
    throw new SparqError('E_ARG', `SPARQ_INT8_PREFILL is "${int8Prefill}"; expected 0 or 1`, { details: { found: int8Prefill, expected: ['0', '1'] } });
  }
  if (simd !== 'baseline') await enableRelaxedSimd();
  return createCpuWasmBackend({ ...(threads === undefined ? {} : { threads }), simd, int8Prefill: int8Prefill === '1' });
}

/** Backends the CLI can construct, in order of preference. */
export const BACKENDS = {
  'cpu-wasm': cpuWasm,
  reference: async (): Promise<Backend> => createReferenceBackend(),
} as const;

/** A backend name. */
export type BackendName = keyof typeof BACKENDS;

/** Constructs and initialises the named backend, or throws `E_NO_BACKEND` / `E_ARG`. */
export async function openBackend(name: string, threads?: number): Promise<Backend> {
  if (!(name in BACKENDS)) {
    throw new SparqError('E_ARG', `unknown backend "${name}"`, {
      details: { found: name, expected: Object.keys(BACKENDS) },
      hint: `choose one of: ${Object.keys(BACKENDS).join(', ')}`,
    });
  }
  const backend = await BACKENDS[name as BackendName](threads);
  try {
    await backend.init();
  } catch (e) {
    throw new SparqError('E_NO_BACKEND', `the ${name} backend failed to start: ${(e as Error).message}`, { cause: e });
  }
  return backend;
}
