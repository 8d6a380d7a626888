/**
 * Exact storage accounting: bits per weight of a packed weight, split by what
 * the bits are spent on, and totals over a model. Counts the bytes actually
 * stored (rows padded to whole bytes per §1), so for shapes where rows pack
 * without padding it equals the closed forms in docs/format.md §8.
 */
import { dtypeBytes, type DType, type PackedMatrix } from '@sparq/tensor';
import type { BitmaskMatrix } from './bitmask';

/** What stored bits are spent on. */
export type BitsRole = 'values' | 'indices' | 'scales' | 'zeros' | 'outliers' | 'stats';

/** Every role, in report order. */
export const BITS_ROLES: readonly BitsRole[] = ['values', 'indices', 'scales', 'zeros', 'outliers', 'stats'];

/** Stored bits of one logical weight. */
export interface WeightAccounting {
  /** Logical weight name (may be empty for an anonymous matrix). */
  readonly name: string;
  /** Encoding kind: `dense`, `quant`, `nm`, `nm-quant`, `spqr`, `bitmask`. */
  readonly kind: string;
  /** Number of weights (elements of the logical tensor). */
  readonly params: number;
  /** Stored bits per role. */
  readonly bits: Readonly<Record<BitsRole, number>>;
  /** Sum of `bits`. */
  readonly totalBits: number;
  /** `totalBits / params` (0 for an empty tensor). */
  readonly bitsPerWeight: number;
}

/** One stored component of a weight, by role and byte size. */
export interface ComponentBytes {
  readonly role: BitsRole;
  readonly bytes: number;
}

/** Builds a {@link WeightAccounting} from component byte sizes. */
export function accountComponents(name: string, kind: string, params: number, components: readonly ComponentBytes[]): WeightAccounting {
  const bits: Record<BitsRole, number> = { values: 0, indices: 0, scales: 0, zeros: 0, outliers: 0, stats: 0 };
  for (const c of components) bits[c.role] += c.bytes * 8;
  const totalBits = BITS_ROLES.reduce((s, r) => s + bits[r], 0);
  return { name, kind, params, bits, totalBits, bitsPerWeight: params === 0 ? 0 : totalBits / params };
}

/** Accounting of an uncompressed tensor of `shape` stored as `dtype` (all bits are values). */
export function accountDense(name: string, shape: readonly number[], dtype: DType): WeightAccounting {
  const params = shape.reduce((a, b) => a * b, 1);
  return accountComponents(name, 'dense', params, [{ role: 'values', bytes: params * dtypeBytes(dtype) }]);
}

/** Options of {@link accountPacked}. */
export interface AccountOptions {
  /** Name to report. */
  readonly name?: string;
  /**
   * Dtype float values are stored in (N:M and bitmask `values`; in memory
   * they are f32, in a container the source dtype). Default `f16`.
   */
  readonly valueDtype?: DType;
}

/** The component byte sizes of a packed weight, by role (what a container stores for it). */
export function packedComponents(m: PackedMatrix | BitmaskMatrix, valueDtype: DType = 'f16'): ComponentBytes[] {
  switch (m.kind) {
    case 'quant':
      return [
        { role: 'values', bytes: m.codes.byteLength },
        { role: 'scales', bytes: m.scales.byteLength },
        { role: 'zeros', bytes: m.zeros?.byteLength ?? 0 },
      ];
    case 'nm':
      return [
        { role: 'values', bytes: m.values.length * dtypeBytes(valueDtype) },
        { role: 'indices', bytes: m.indices.byteLength },
      ];
    case 'nm-quant':
      return [
        { role: 'values', bytes: m.codes.byteLength },
        { role: 'indices', bytes: m.indices.byteLength },
        { role: 'scales', bytes: m.scales.byteLength },
        { role: 'zeros', bytes: m.zeros?.byteLength ?? 0 },
      ];
    case 'spqr':
      return [
        { role: 'values', bytes: m.codes.byteLength },
        { role: 'scales', bytes: m.scales.codes.byteLength },
        { role: 'zeros', bytes: m.zeros.codes.byteLength },
        { role: 'stats', bytes: m.scales.scale.byteLength + m.scales.zero.byteLength + m.zeros.scale.byteLength + m.zeros.zero.byteLength },
        { role: 'outliers', bytes: m.outliers.rowPtr.byteLength + m.outliers.cols.byteLength + m.outliers.values.byteLength },
      ];
    case 'bitmask':
      return [
        { role: 'values', bytes: m.values.length * dtypeBytes(valueDtype) },
        { role: 'indices', bytes: m.mask.byteLength },
      ];
  }
}

/** Exact stored bits of a packed weight (see {@link packedComponents} for the role split). */
export function accountPacked(m: PackedMatrix | BitmaskMatrix, opts: AccountOptions = {}): WeightAccounting {
  return accountComponents(opts.name ?? '', m.kind, m.rows * m.cols, packedComponents(m, opts.valueDtype));
}

/** Totals over many weights. */
export interface ModelAccounting {
  /** Per-weight rows, in the order given. */
  readonly weights: readonly WeightAccounting[];
  /** Total weights. */
  readonly params: number;
  /** Total stored bits per role. */
  readonly bits: Readonly<Record<BitsRole, number>>;
  readonly totalBits: number;
  /** `totalBits / params` over all weights. */
  readonly bitsPerWeight: number;
  /** Same, over the compressed (non-`dense`) weights only. */
  readonly compressedBitsPerWeight: number;
}

/** Sums per-weight accounting into model totals. */
export function accountModel(weights: readonly WeightAccounting[]): ModelAccounting {
  const bits: Record<BitsRole, number> = { values: 0, indices: 0, scales: 0, zeros: 0, outliers: 0, stats: 0 };
  let params = 0;
  let cParams = 0;
  let cBits = 0;
  for (const w of weights) {
    params += w.params;
    for (const r of BITS_ROLES) bits[r] += w.bits[r];
    if (w.kind !== 'dense') {
      cParams += w.params;
      cBits += w.totalBits;
    }
  }
  const totalBits = BITS_ROLES.reduce((s, r) => s + bits[r], 0);
  return {
    weights,
    params,
    bits,
    totalBits,
    bitsPerWeight: params === 0 ? 0 : totalBits / params,
    compressedBitsPerWeight: cParams === 0 ? 0 : cBits / cParams,
  };
}
