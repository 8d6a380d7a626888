/**
 * Element types and their storage. Half-precision types (f16, bf16) are stored
 * as their raw 16-bit patterns in a `Uint16Array`; convert with
 * {@link f16ToF32} / {@link f32ToF16} and friends (see `half.ts`).
 */
import { SparqError } from './errors';

/** Every dtype sparq knows, mapped to its storage description. */
export const DTYPES = {
  f64: { bytes: 8, safetensors: 'F64', float: true },
  f32: { bytes: 4, safetensors: 'F32', float: true },
  f16: { bytes: 2, safetensors: 'F16', float: true },
  bf16: { bytes: 2, safetensors: 'BF16', float: true },
  i64: { bytes: 8, safetensors: 'I64', float: false },
  i32: { bytes: 4, safetensors: 'I32', float: false },
  i16: { bytes: 2, safetensors: 'I16', float: false },
  i8: { bytes: 1, safetensors: 'I8', float: false },
  u8: { bytes: 1, safetensors: 'U8', float: false },
  bool: { bytes: 1, safetensors: 'BOOL', float: false },
} as const;

/** A dtype name. */
export type DType = keyof typeof DTYPES;

/** The typed array that stores each dtype. */
export interface StorageMap {
  f64: Float64Array;
  f32: Float32Array;
  f16: Uint16Array;
  bf16: Uint16Array;
  i64: BigInt64Array;
  i32: Int32Array;
  i16: Int16Array;
  i8: Int8Array;
  u8: Uint8Array;
  bool: Uint8Array;
}

/** Storage type of dtype `D`. */
export type Storage<D extends DType = DType> = StorageMap[D];

/** Bytes per element of `dtype`. */
export function dtypeBytes(dtype: DType): number {
  return DTYPES[dtype].bytes;
}

/** True for f64/f32/f16/bf16. */
export function isFloatDType(dtype: DType): boolean {
  return DTYPES[dtype].float;
}

/** Allocates zeroed storage of `n` elements of `dtype`. */
export function allocStorage<D extends DType>(dtype: D, n: number): Storage<D> {
  return storageFromBuffer(dtype, new ArrayBuffer(n * dtypeBytes(dtype)), 0, n);
}

/**
 * A typed-array view of `n` elements of `dtype` over `buffer` at `byteOffset`.
 * `byteOffset` must be aligned to the element size (copy first otherwise).
 */
export function storageFromBuffer<D extends DType>(
  dtype: D,
  buffer: ArrayBufferLike,
  byteOffset: number,
  n: number,
): Storage<D> {
  const ctor = STORAGE_CTORS[dtype];
  return new ctor(buffer, byteOffset, n) as Storage<D>;
}

type AnyCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Storage;

const STORAGE_CTORS: Record<DType, AnyCtor> = {
  f64: Float64Array,
  f32: Float32Array,
  f16: Uint16Array,
  bf16: Uint16Array,
  i64: BigInt64Array,
  i32: Int32Array,
  i16: Int16Array,
  i8: Int8Array,
  u8: Uint8Array,
  bool: Uint8Array,
};

/** Maps a safetensors dtype string (`"F32"`, `"BF16"` …) to a sparq dtype, or throws `E_DTYPE`. */
export function dtypeFromSafetensors(name: string): DType {
  for (const [k, v] of Object.entries(DTYPES)) if (v.safetensors === name) return k as DType;
  throw new SparqError('E_DTYPE', `unknown safetensors dtype "${name}"`, {
    details: { found: name, expected: Object.values(DTYPES).map((d) => d.safetensors) },
  });
}

/** The safetensors dtype string of a sparq dtype. */
export function dtypeToSafetensors(dtype: DType): string {
  return DTYPES[dtype].safetensors;
}

/** True when `s` names a sparq dtype. */
export function isDType(s: string): s is DType {
  return Object.prototype.hasOwnProperty.call(DTYPES, s);
}
