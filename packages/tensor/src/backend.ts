/**
 * The backend contract: a typed kernel table (no string-keyed casts), a
 * `supports()` that answers `true` or a reason, and a `run()` that executes a
 * kernel. Every backend (reference, cpu-wasm, webgpu, cuda, fpga-sim) exposes
 * the same interface and is checked by the same conformance suite.
 *
 * Later issues add compressed kernels (matmulInt4, matmulNM, …) as new entries
 * of {@link KernelSpecs}; a backend that lacks one reports it as unsupported.
 */
import { SparqError } from './errors';
import type { Tensor } from './tensor';

/** One entry per kernel: its inputs, attributes and output. */
export interface KernelSpecs {
  /**
   * Dense matrix product `out = a · b` (or `a · bᵀ` with `transposeB`).
   * `a` is `[m, k]` f32; `b` is `[k, n]`, or `[n, k]` with `transposeB` (the
   * PyTorch `Linear` weight layout, one row per output feature); `out` is
   * `[m, n]` f32. `m = 1` is the GEMV (decode) case.
   */
  matmulDense: {
    inputs: { a: Tensor<'f32'>; b: Tensor<'f32'> };
    attrs: { transposeB: boolean };
    output: Tensor<'f32'>;
  };
}

/** A kernel name. */
export type KernelName = keyof KernelSpecs;
/** Inputs of kernel `K`. */
export type KernelInputs<K extends KernelName> = KernelSpecs[K]['inputs'];
/** Attributes of kernel `K`. */
export type KernelAttrs<K extends KernelName> = KernelSpecs[K]['attrs'];
/** Output of kernel `K`. */
export type KernelOutput<K extends KernelName> = KernelSpecs[K]['output'];

/** One kernel's implementation on one backend; `C` is the backend's private context. */
export interface KernelImpl<K extends KernelName, C = unknown> {
  readonly name: K;
  /** `true`, or a short reason why these inputs are not supported. */
  supports?(inputs: KernelInputs<K>, attrs: KernelAttrs<K>, ctx: C): true | string;
  run(inputs: KernelInputs<K>, attrs: KernelAttrs<K>, ctx: C): KernelOutput<K> | Promise<KernelOutput<K>>;
}

/** A backend's kernel table: at most one implementation per kernel name. */
export type KernelTable<C = unknown> = { readonly [K in KernelName]?: KernelImpl<K, C> };

/** What every backend offers. */
export interface Backend {
  /** `'reference'`, `'cpu-wasm'`, `'webgpu'`, … */
  readonly name: string;
  /** Acquires devices, compiles modules, starts workers. Idempotent. */
  init(): Promise<void>;
  /** `true` when `run(kernel, inputs, attrs)` would work, otherwise the reason. */
  supports<K extends KernelName>(kernel: K, inputs: KernelInputs<K>, attrs: KernelAttrs<K>): true | string;
  /** Runs a kernel; throws `E_KERNEL_UNSUPPORTED` when {@link Backend.supports} says no. */
  run<K extends KernelName>(kernel: K, inputs: KernelInputs<K>, attrs: KernelAttrs<K>): Promise<KernelOutput<K>>;
  /** Drops any cached device copy of `t` (e.g. a weight that was replaced). */
  release(t: Tensor): void;
  /** Frees workers and device memory. The backend is unusable afterwards. */
  dispose(): Promise<void>;
}

/** Hooks of {@link createTableBackend}. */
export interface TableBackendHooks<C> {
  init?(): Promise<void>;
  release?(t: Tensor, ctx: C): void;
  dispose?(ctx: C): Promise<void>;
}

/**
 * Builds a {@link Backend} from a kernel table and a context: the one place that
 * turns missing or unsupported kernels into `E_KERNEL_UNSUPPORTED` errors.
 */
export function createTableBackend<C>(
  name: string,
  table: KernelTable<C>,
  ctx: C,
  hooks: TableBackendHooks<C> = {},
): Backend {
  let ready: Promise<void> | undefined;
  let disposed = false;
  // A typed lookup: the mapped type guarantees table[K] is KernelImpl<K, C>.
  const lookup = <K extends KernelName>(k: K): KernelImpl<K, C> | undefined => table[k] as KernelImpl<K, C> | undefined;
  const backend: Backend = {
    name,
    init() {
      ready ??= hooks.init ? hooks.init() : Promise.resolve();
      return ready;
    },
    supports(kernel, inputs, attrs) {
      const impl = lookup(kernel);
      if (!impl) return `kernel ${kernel} is not implemented by the ${name} backend`;
      return impl.supports ? impl.supports(inputs, attrs, ctx) : true;
    },
    async run(kernel, inputs, attrs) {
      if (disposed) throw new SparqError('E_INTERNAL', `the ${name} backend was disposed`);
      await backend.init();
      const impl = lookup(kernel);
      const ok = impl ? (impl.supports ? impl.supports(inputs, attrs, ctx) : true) : `not implemented`;
      if (!impl || ok !== true) {
        throw new SparqError('E_KERNEL_UNSUPPORTED', `${name} backend cannot run ${kernel}: ${ok}`);
      }
      return impl.run(inputs, attrs, ctx);
    },
    release(t) {
      hooks.release?.(t, ctx);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await hooks.dispose?.(ctx);
    },
  };
  return backend;
}
