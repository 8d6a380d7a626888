/**
 * One compressed linear layer as the driver holds it between the solver and
 * the output: the f32 weight the model now runs with, plus the solver's raw
 * parts (mask, codes, statistics, SpQR outliers) the packed format encodes.
 * Also its lossless (de)serialisation to safetensors tensors, used by the
 * resume folder.
 */
import { SparqError, Tensor, type DType, type PackedBits } from '@sparq/tensor';

/** Group quantization parts in original column order (docs/format.md §2). */
export interface QuantParts {
  bits: PackedBits;
  /** Columns per group, resolved (per-channel = cols). */
  groupSize: number;
  sym: boolean;
  /** `rows × cols` codes, unpacked. Pruned positions hold the zero-point (they decode to exactly 0). */
  codes: Uint8Array;
  /** `rows × cols/groupSize`, already f16-representable (solvers run with `f16Stats`). */
  scales: Float64Array;
  /** `rows × cols/groupSize`, integer-valued. */
  zeros: Float64Array;
}

/** A compressed linear. */
export interface CompressedLinear {
  name: string;
  rows: number;
  cols: number;
  /** Human-readable stage summary, e.g. `sparsegpt 2:4 + rtn w4 g32`. */
  method: string;
  /** The pruning pattern as written (`2:4`, `50%`), when pruned. */
  pattern?: string;
  /** `rows × cols`, 1 = pruned, when pruned. */
  mask?: Uint8Array;
  /** Group quantization parts, when quantized by RTN, GPTQ or the joint pass. */
  quant?: QuantParts;
  /** SpQR's parts (typed arrays and numbers, as `spqrQuantize` returns them minus `weight`). */
  spqr?: Record<string, unknown>;
  /** `rows × cols` f32: what the model runs with after this layer is compressed (the format's decoding of the parts). */
  weight: Float32Array;
  /**
   * Dtype the float values of an unquantized (dense / pruned) weight are stored in: the source dtype, so pruning an
   * f16 model stores f16. `weight` holds values exactly representable in it.
   */
  valueDtype: 'f32' | 'f16' | 'bf16';
}

/** Typed arrays the serialiser knows, with the safetensors dtype each is stored as. */
const ARRAYS: { ctor: new (b: ArrayBuffer) => ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }; name: string; dtype: DType; bytes: number }[] = [
  { ctor: Float64Array, name: 'Float64Array', dtype: 'f64', bytes: 8 },
  { ctor: Float32Array, name: 'Float32Array', dtype: 'f32', bytes: 4 },
  { ctor: Uint8Array, name: 'Uint8Array', dtype: 'u8', bytes: 1 },
  // No unsigned 16/32-bit dtypes in safetensors' common set: store the bits as i16/i32 and remember the type.
  { ctor: Uint16Array, name: 'Uint16Array', dtype: 'i16', bytes: 2 },
  { ctor: Int16Array, name: 'Int16Array', dtype: 'i16', bytes: 2 },
  { ctor: Uint32Array, name: 'Uint32Array', dtype: 'i32', bytes: 4 },
  { ctor: Int32Array, name: 'Int32Array', dtype: 'i32', bytes: 4 },
];

function arrayKind(v: unknown): (typeof ARRAYS)[number] | undefined {
  return ARRAYS.find((a) => v instanceof (a.ctor as unknown as typeof Float64Array));
}

/**
 * A typed array's bytes as a tensor of `dtype`: a reinterpreting *view* (no
 * copy — a LLaMA-7B block is ~1 GB of parts), copying only when unaligned.
 */
function asStorage(v: ArrayBufferView, dtype: DType, bytes: number): Tensor {
  const n = v.byteLength / bytes;
  let buf = v.buffer as ArrayBuffer;
  let off = v.byteOffset;
  if (off % bytes !== 0) {
    const copy = new Uint8Array(v.byteLength);
    copy.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    buf = copy.buffer;
    off = 0;
  }
  const views: Partial<Record<DType, () => ArrayLike<number>>> = {
    f64: () => new Float64Array(buf, off, n),
    f32: () => new Float32Array(buf, off, n),
    u8: () => new Uint8Array(buf, off, n),
    i16: () => new Int16Array(buf, off, n),
    i32: () => new Int32Array(buf, off, n),
  };
  return new Tensor(dtype, [n], views[dtype]!() as never);
}

/**
 * Flattens a compressed linear into named tensors (`<name>::<field path>`)
 * plus a JSON description of everything else. Lossless: typed arrays keep
 * their exact type and bits.
 */
export function serializeLinear(c: CompressedLinear): { tensors: [string, Tensor][]; meta: unknown } {
  const tensors: [string, Tensor][] = [];
  const walk = (v: unknown, path: string): unknown => {
    const k = arrayKind(v);
    if (k) {
      tensors.push([`${c.name}::${path}`, asStorage(v as ArrayBufferView, k.dtype, k.bytes)]);
      return { $array: k.name, tensor: `${c.name}::${path}` };
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}.${i}`));
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([key, x]) => [key, walk(x, path ? `${path}.${key}` : key)]));
    if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
    return v;
  };
  return { tensors, meta: walk(c, '') };
}

/** Inverse of {@link serializeLinear}; `read` fetches a tensor by name. */
export async function deserializeLinear(meta: unknown, read: (name: string) => Promise<Tensor>, file: string): Promise<CompressedLinear> {
  const walk = async (v: unknown): Promise<unknown> => {
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      if (typeof o.$array === 'string') {
        const k = ARRAYS.find((a) => a.name === o.$array);
        if (!k) throw new SparqError('E_SAFETENSORS', `${file}: unknown array type ${String(o.$array)}`, { details: { file } });
        const t = await read(String(o.tensor));
        const d = t.data as ArrayBufferView;
        // The reader returns fresh storage: view it when aligned for the target type, else copy.
        if (d.byteOffset % k.bytes === 0) return new (k.ctor as unknown as new (b: ArrayBufferLike, o: number, n: number) => unknown)(d.buffer, d.byteOffset, d.byteLength / k.bytes);
        const bytes = new Uint8Array(d.byteLength);
        bytes.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
        return new k.ctor(bytes.buffer);
      }
      if (typeof o.$number === 'string') return Number(o.$number);
      const out: Record<string, unknown> = {};
      for (const [key, x] of Object.entries(o)) out[key] = await walk(x);
      return out;
    }
    return v;
  };
  return (await walk(meta)) as CompressedLinear;
}

/**
 * Relative output reconstruction error `‖WX − ŴX‖²_F / ‖WX‖²_F`, computed
 * from `H = 2XᵀX/n` as `tr(ΔW H ΔWᵀ) / tr(W H Wᵀ)` (the factor 2/n cancels),
 * so it needs no activations. `w` and `what` are `rows × cols`; `h` is
 * `cols × cols`. Accumulated in float64.
 */
export function relativeReconstructionError(w: ArrayLike<number>, what: ArrayLike<number>, h: Float64Array, rows: number, cols: number): number {
  let num = 0;
  let den = 0;
  const d = new Float64Array(cols);
  const x = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) {
      x[j] = w[o + j]!;
      d[j] = x[j]! - what[o + j]!;
    }
    for (let i = 0; i < cols; i++) {
      const hi = i * cols;
      let sd = 0;
      let sx = 0;
      for (let j = 0; j < cols; j++) {
        const hij = h[hi + j]!;
        sd += hij * d[j]!;
        sx += hij * x[j]!;
      }
      num += d[i]! * sd;
      den += x[i]! * sx;
    }
  }
  return den > 0 ? num / den : num === 0 ? 0 : Infinity;
}
