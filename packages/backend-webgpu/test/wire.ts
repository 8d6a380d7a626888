/**
 * A JSON-safe encoding of kernel inputs and outputs for crossing into a
 * browser page with `page.evaluate`: typed arrays as base64 of their bytes
 * (bit-exact, NaN payloads included), Tensors rebuilt as Tensors, plain
 * objects and arrays recursively. `{ $ref: id }` names an object the page
 * keeps (to test the weight cache across calls).
 */
import { Tensor, type DType } from '@sparq/tensor';

/** A JSON value. */
export type Wire = null | boolean | number | string | Wire[] | { [key: string]: Wire };

const CTORS = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  BigInt64Array,
} as const;
type CtorName = keyof typeof CTORS;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Encodes `v` (Tensors, typed arrays, plain data). */
export function toWire(v: unknown): Wire {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Tensor) return { $tensor: { dtype: v.dtype, shape: [...v.shape], data: toWire(v.data) } };
  if (ArrayBuffer.isView(v)) {
    const name = v.constructor.name as CtorName;
    if (!(name in CTORS)) throw new Error(`wire: unsupported typed array ${name}`);
    return { $ta: name, b64: toBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
  }
  if (Array.isArray(v)) return v.map(toWire);
  if (typeof v === 'object') {
    const out: { [key: string]: Wire } = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toWire(x);
    return out;
  }
  throw new Error(`wire: cannot encode ${typeof v}`);
}

/** Decodes a {@link toWire} value; `refs` resolves `{ $ref: id }`. */
export function fromWire(w: Wire, refs: ReadonlyMap<string, unknown> = new Map()): unknown {
  if (w === null || typeof w !== 'object') return w;
  if (Array.isArray(w)) return w.map((x) => fromWire(x, refs));
  if (typeof w.$ref === 'string') {
    if (!refs.has(w.$ref)) throw new Error(`wire: unknown ref ${w.$ref}`);
    return refs.get(w.$ref);
  }
  if (typeof w.$ta === 'string') {
    const bytes = fromBase64(w.b64 as string);
    const C = CTORS[w.$ta as CtorName];
    return new C(bytes.buffer, 0, bytes.byteLength / C.BYTES_PER_ELEMENT);
  }
  if (w.$tensor && typeof w.$tensor === 'object' && !Array.isArray(w.$tensor)) {
    const t = w.$tensor;
    return new Tensor(t.dtype as DType, t.shape as number[], fromWire(t.data!, refs) as never);
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(w)) out[k] = fromWire(x, refs);
  return out;
}
