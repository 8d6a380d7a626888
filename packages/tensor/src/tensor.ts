/**
 * A dense, row-major tensor: a dtype, a shape and typed storage. Tensors are
 * treated as immutable once handed to a backend (backends may cache uploaded
 * copies by identity).
 */
import { allocStorage, type DType, type Storage } from './dtype';
import { SparqError } from './errors';
import { bf16ArrayToF32, f16ArrayToF32 } from './half';

/** Number of elements of a shape (1 for a scalar shape `[]`). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A dense row-major tensor. */
export class Tensor<D extends DType = DType> {
  /** Element type. */
  readonly dtype: D;
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** Row-major storage; f16/bf16 hold raw bit patterns. */
  readonly data: Storage<D>;

  /** Wraps existing storage; throws `E_SHAPE_MISMATCH` if its length disagrees with `shape`. */
  constructor(dtype: D, shape: readonly number[], data: Storage<D>) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) {
        throw new SparqError('E_SHAPE_MISMATCH', `invalid tensor shape [${shape.join(', ')}]`);
      }
    }
    const n = shapeSize(shape);
    if (data.length !== n) {
      throw new SparqError(
        'E_SHAPE_MISMATCH',
        `storage holds ${data.length} elements but shape [${shape.join(', ')}] needs ${n}`,
        { details: { expected: n, found: data.length } },
      );
    }
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  /** A zero-filled tensor. */
  static zeros<D extends DType>(dtype: D, shape: readonly number[]): Tensor<D> {
    return new Tensor(dtype, shape, allocStorage(dtype, shapeSize(shape)));
  }

  /** An f32 tensor from numbers. */
  static f32(shape: readonly number[], values: ArrayLike<number>): Tensor<'f32'> {
    return new Tensor('f32', shape, Float32Array.from(values));
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Same storage, new shape (sizes must agree). */
  reshape(shape: readonly number[]): Tensor<D> {
    return new Tensor(this.dtype, shape, this.data);
  }

  /**
   * The tensor as f32: returns `this` when already f32, otherwise a widened copy
   * (exact for f16, bf16 and small integers; f64 rounds to nearest).
   */
  toF32(): Tensor<'f32'> {
    if (this.dtype === 'f32') return this as unknown as Tensor<'f32'>;
    return new Tensor('f32', this.shape, toF32Array(this));
  }
}

/** Whether `t` is stored in half precision (f16 or bf16 bit patterns). */
export function isHalfPrecision(t: Tensor): t is Tensor<'f16' | 'bf16'> {
  return t.dtype === 'f16' || t.dtype === 'bf16';
}

/** Widens any tensor's values into a new Float32Array. */
export function toF32Array(t: Tensor): Float32Array {
  switch (t.dtype) {
    case 'f16':
      return f16ArrayToF32(t.data as Uint16Array);
    case 'bf16':
      return bf16ArrayToF32(t.data as Uint16Array);
    case 'i64': {
      const src = t.data as BigInt64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]!);
      return out;
    }
    default:
      return Float32Array.from(t.data as ArrayLike<number>);
  }
}

/** Throws `E_SHAPE_MISMATCH` unless `t.shape` equals `expected` (`-1` matches any size). */
export function assertShape(t: Tensor, expected: readonly number[], what: string): void {
  const ok =
    t.shape.length === expected.length && expected.every((d, i) => d === -1 || d === t.shape[i]);
  if (!ok) {
    throw new SparqError(
      'E_SHAPE_MISMATCH',
      `${what}: expected shape [${expected.join(', ')}], found [${t.shape.join(', ')}]`,
      { details: { tensor: what, expected, found: t.shape } },
    );
  }
}
