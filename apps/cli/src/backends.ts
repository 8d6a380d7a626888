/**
 * The CLI's name → backend factory registry. Library packages never register
 * backends globally; only the CLI picks one by name.
 */
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { type Backend, SparqError, createReferenceBackend } from '@sparq/tensor';

/** Backends the CLI can construct, in order of preference. */
export const BACKENDS = {
  'cpu-wasm': (threads?: number) => createCpuWasmBackend(threads === undefined ? {} : { threads }),
  reference: () => createReferenceBackend(),
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
  const backend = BACKENDS[name as BackendName](threads);
  try {
    await backend.init();
  } catch (e) {
    throw new SparqError('E_NO_BACKEND', `the ${name} backend failed to start: ${(e as Error).message}`, { cause: e });
  }
  return backend;
}
