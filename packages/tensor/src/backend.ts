/**
 * The backend contract: a typed kernel table (no string-keyed casts), a
 * `supports()` that answers `true` or a reason, and a `run()` that executes a
 * kernel. Every backend (reference, cpu-wasm, webgpu, cuda, fpga-sim) exposes
 * the same interface and is checked by the same conformance suite.
 *
 * Compressed kernels (`matmulQuant`, `matmulNM`, `matmulNMQuant`,
 * `matmulSpqr`) consume the packed layouts of `docs/format.md` §1–§6
 * (`packed.ts`); a backend that lacks one reports it as unsupported.
 *
 * Numerics of the compressed kernels: the result must equal
 * `a · decode(w)ᵀ` where `decode` is the exact dequantization of the format
 * (the reference decoders in `reference-packed.ts`), up to f32 summation error
 * — except that kernels marked *int8-activation* may quantize each row of `a`
 * to int8 (symmetric absmax scale, blocks of at most {@link INT8_ACT_MAX_BLOCK}
 * consecutive columns) before an integer dot product, as llama.cpp does for
 * Q4×Q8. That adds an error bounded, per output, by
 * `√B / 254 · ‖a_i‖₂ · ‖w_j‖₂` (B the block size; Cauchy–Schwarz over blocks of
 * the per-element rounding bound `absmax_b / 254`), which is what the
 * conformance suite checks for those kernels.
 */
import { SparqError } from './errors';
import type { NMMatrix, NMQuantMatrix, PackedMatrix, QuantizedMatrix, SpqrMatrix } from './packed';
import type { Tensor } from './tensor';

/** Storage types `matmulDense` accepts for its weight operand `b`. */
export type DenseWeightDType = 'f32' | 'f16' | 'bf16';

/** Attributes of a kernel that has none. */
export type NoAttrs = Record<string, never>;

/**
 * Inputs of a compressed matmul: `a` is `[m, k]` f32 activations, `w` a packed
 * weight with `rows = n` output features and `cols = k` (the `Linear` layout),
 * so the product is `a · decode(w)ᵀ`, `[m, n]` f32.
 */
export interface PackedMatmulInputs<W extends PackedMatrix> {
  a: Tensor<'f32'>;
  w: W;
}

/** One entry per kernel: its inputs, attributes and output. */
export interface KernelSpecs {
  /**
   * Dense matrix product `out = a · b` (or `a · bᵀ` with `transposeB`).
   * `a` is `[m, k]` f32; `b` is `[k, n]`, or `[n, k]` with `transposeB` (the
   * PyTorch `Linear` weight layout, one row per output feature); `out` is
   * `[m, n]` f32. `m = 1` is the GEMV (decode) case. `b` may also be stored
   * as f16 or bf16 (a half-precision checkpoint's weights, half the bytes):
   * the product is then that of `b` widened to f32 (exact), up to f32
   * summation error; a backend without a half-precision path reports those
   * inputs as unsupported.
   */
  matmulDense: {
    inputs: { a: Tensor<'f32'>; b: Tensor<DenseWeightDType> };
    attrs: { transposeB: boolean };
    output: Tensor<'f32'>;
  };
  /**
   * `out = a · decode(w)ᵀ` for a group-wise quantized weight (§1, §2): any
   * `bits` ∈ {2, 3, 4, 8}, sym or asym, any `groupSize` dividing `cols`.
   * *int8-activation* allowed.
   */
  matmulQuant: {
    inputs: PackedMatmulInputs<QuantizedMatrix>;
    attrs: NoAttrs;
    output: Tensor<'f32'>;
  };
  /**
   * `out = a · decode(w)ᵀ` for an N:M-sparse weight with f32 values (§3),
   * e.g. 2:4, 4:8. f32 arithmetic only (no activation quantization).
   */
  matmulNM: {
    inputs: PackedMatmulInputs<NMMatrix>;
    attrs: NoAttrs;
    output: Tensor<'f32'>;
  };
  /**
   * `out = a · decode(w)ᵀ` for an N:M-sparse weight whose kept values are
   * group-quantized (§4) — the headline 2:4 + INT4 format. *int8-activation* allowed.
   */
  matmulNMQuant: {
    inputs: PackedMatmulInputs<NMQuantMatrix>;
    attrs: NoAttrs;
    output: Tensor<'f32'>;
  };
  /**
   * `out = a · decode(w)ᵀ` for a SpQR weight: quantized base with bilevel
   * statistics (§2, §6) plus f16 outliers that overwrite the base (§5).
   * *int8-activation* allowed for the base; outliers are exact.
   */
  matmulSpqr: {
    inputs: PackedMatmulInputs<SpqrMatrix>;
    attrs: NoAttrs;
    output: Tensor<'f32'>;
  };
  /**
   * *Optional model kernel.* RMSNorm over the last dimension (HF
   * `LlamaRMSNorm`, as `applyNorm` in `@sparq/lm`):
   * `out[r, i] = weight[i] · (x[r, i] / sqrt(mean_i(x[r, ·]²) + eps))`.
   * `x` is `[m, d]` f32, `weight` is `[d]` f32, `out` is `[m, d]` f32.
   */
  rmsNorm: {
    inputs: { x: Tensor<'f32'>; weight: Tensor<'f32'> };
    attrs: { eps: number };
    output: Tensor<'f32'>;
  };
  /**
   * *Optional model kernel.* Rotary position embedding in Hugging Face's
   * rotate-half layout (`apply_rotary_pos_emb`, as `applyRope` in `@sparq/lm`).
   * `x` is `[m, heads · headDim]` f32 (queries or keys, `heads` inferred from the
   * width); row r sits at absolute position `positions[r]` (`[m]` i32, ≥ 0);
   * `invFreq` is `[headDim / 2]` f64, the inverse frequencies (`ropeInvFreq` in
   * `@sparq/lm`, LLaMA-3 scaling already applied). With `a = positions[r] ·
   * invFreq[i]` (computed in float64, so long positions keep their precision),
   * for every head and i < headDim/2, `x1 = x[…, i]`, `x2 = x[…, i + headDim/2]`:
   * `out[…, i] = x1·cos a − x2·sin a`, `out[…, i + headDim/2] = x2·cos a + x1·sin a`.
   * Returns a new `[m, heads · headDim]` f32 tensor; `x` is not modified.
   */
  rope: {
    inputs: { x: Tensor<'f32'>; positions: Tensor<'i32'>; invFreq: Tensor<'f64'> };
    attrs: { headDim: number };
    output: Tensor<'f32'>;
  };
  /**
   * *Optional model kernel.* Causal scaled-dot-product attention of `m` new
   * queries against a key/value cache (as `attend` in `@sparq/lm`).
   * `q` is `[m, numHeads · headDim]` f32 (post-RoPE), query row i at absolute
   * position `qPos0 + i`; `k` and `v` are `[t, numKvHeads · headDim]` f32, key
   * row j at position j (the whole cache including the new rows). Query head h
   * reads KV head `floor(h / (numHeads / numKvHeads))` (grouped-query attention,
   * HF `repeat_kv`; `numKvHeads` must divide `numHeads`). Query position p sees
   * key j iff `j ≤ p` and, with a `slidingWindow` w, `j > p − w`. Scores are
   * `q·k / sqrt(headDim)`, softmax over the visible keys, output the
   * probability-weighted sum of values: `[m, numHeads · headDim]` f32.
   * Requires `qPos0 ≥ 0` and `qPos0 + m ≤ t` (every query sees at least itself).
   *
   * Optional cache hint (`cacheId`, `cachedRows`): the caller promises that
   * rows `[0, cachedRows)` of `k` and `v` hold the same values as in its
   * previous call with the same `cacheId` — an append-only key/value cache, as
   * in incremental decoding. A backend may then keep those rows resident and
   * copy only the new ones; one that ignores the hint computes the same
   * result. A caller must use a new `cacheId` whenever earlier rows change
   * (a new sequence).
   */
  attention: {
    inputs: { q: Tensor<'f32'>; k: Tensor<'f32'>; v: Tensor<'f32'> };
    attrs: {
      numHeads: number;
      numKvHeads: number;
      headDim: number;
      qPos0: number;
      slidingWindow?: number;
      cacheId?: number;
      cachedRows?: number;
    };
    output: Tensor<'f32'>;
  };
  /**
   * *Optional model kernel.* The gated MLP activation of LLaMA-family models:
   * `out = silu(gate) ⊙ up` with `silu(x) = x / (1 + e^(−x))`; `gate` and `up`
   * are `[m, f]` f32, `out` is `[m, f]` f32.
   */
  siluMul: {
    inputs: { gate: Tensor<'f32'>; up: Tensor<'f32'> };
    attrs: NoAttrs;
    output: Tensor<'f32'>;
  };
}

/**
 * The optional model kernels (everything a LLaMA-family forward pass needs
 * besides the matmuls). Any backend may lack them (`supports()` says so); a
 * caller such as `@sparq/lm` runs them when supported and otherwise computes
 * the same thing in JS.
 */
export const MODEL_KERNELS = ['rmsNorm', 'rope', 'attention', 'siluMul'] as const satisfies readonly KernelName[];

/** Largest activation block an *int8-activation* kernel may use (see {@link KernelSpecs}). */
export const INT8_ACT_MAX_BLOCK = 128;

/** The compressed matmul kernels and the packed layout each consumes. */
export const PACKED_MATMUL_KERNEL = {
  quant: 'matmulQuant',
  nm: 'matmulNM',
  'nm-quant': 'matmulNMQuant',
  spqr: 'matmulSpqr',
} as const satisfies Record<PackedMatrix['kind'], KernelName>;

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
  /** Drops any cached device copy of `t` (a dense or packed weight that was replaced). */
  release(t: Tensor | PackedMatrix): void;
  /** Frees workers and device memory. The backend is unusable afterwards. */
  dispose(): Promise<void>;
}

/** Hooks of {@link createTableBackend}. */
export interface TableBackendHooks<C> {
  init?(): Promise<void>;
  release?(t: Tensor | PackedMatrix, ctx: C): void;
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
