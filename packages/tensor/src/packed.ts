/**
 * In-memory packed weight layouts: the plain typed-array structures that the
 * format package encodes and decodes and that every backend's compressed
 * kernels consume. They live here (not in @sparq/format) because the kernel
 * contract and the reference kernels in this package must name them, and
 * @sparq/tensor depends on nothing. The byte-level rules are normative in
 * `docs/format.md` §1–§6; field comments cite the section.
 */

/** Code widths the packers support (§1). */
export type PackedBits = 2 | 3 | 4 | 8;

/** Group-wise quantized dense weight `[rows, cols]` (§2). */
export interface QuantizedMatrix {
  readonly kind: 'quant';
  readonly rows: number;
  readonly cols: number;
  readonly bits: PackedBits;
  /** Columns per group; a divisor of `cols` (`cols` = per-channel). */
  readonly groupSize: number;
  /** Symmetric: no `zeros`, zero-point `2^(bits−1)`. */
  readonly sym: boolean;
  /** `[rows, cols]` codes, each row packed LSB-first into `ceil(cols·bits/8)` bytes (§1). */
  readonly codes: Uint8Array;
  /** `[rows, cols/groupSize]` f16 bit patterns. */
  readonly scales: Uint16Array;
  /** `[rows, cols/groupSize]` integer zero-points as `bits`-bit codes, rows packed per §1 (asymmetric only). */
  readonly zeros?: Uint8Array;
}

/** N:M-sparse weight `[rows, cols]` with float values (§3): N kept of every M along `cols`. */
export interface NMMatrix {
  readonly kind: 'nm';
  readonly rows: number;
  readonly cols: number;
  /** Kept slots per group. */
  readonly n: number;
  /** Group length, `n < m ≤ 16`, `cols % m === 0`. */
  readonly m: number;
  /** `[rows, cols·n/m]` kept values (f32). */
  readonly values: Float32Array;
  /** `[rows, cols·n/m]` in-group positions, `ceil(log2 m)` bits each, rows packed per §1. */
  readonly indices: Uint8Array;
}

/** N:M-sparse weight whose kept values are group-quantized (§4). */
export interface NMQuantMatrix {
  readonly kind: 'nm-quant';
  readonly rows: number;
  readonly cols: number;
  readonly n: number;
  readonly m: number;
  readonly bits: PackedBits;
  /** Group size in *original* columns: a multiple of `m` and a divisor of `cols`. */
  readonly groupSize: number;
  readonly sym: boolean;
  /** `[rows, cols·n/m]` codes of the kept values, rows packed per §1. */
  readonly codes: Uint8Array;
  /** `[rows, cols/groupSize]` f16 bit patterns. */
  readonly scales: Uint16Array;
  /** `[rows, cols/groupSize]` zero-point codes, rows packed per §1 (asymmetric only). */
  readonly zeros?: Uint8Array;
  /** `[rows, cols·n/m]` in-group positions, rows packed per §1. */
  readonly indices: Uint8Array;
}

/** SpQR outliers in CSR form (§5); overwrite semantics. */
export interface OutlierCsr {
  /** `[rows + 1]` offsets into `cols` / `values`. */
  readonly rowPtr: Uint32Array;
  /** `[nnz]` column of each outlier, strictly increasing within a row. */
  readonly cols: Uint16Array | Uint32Array;
  /** `[nnz]` f16 bit patterns. */
  readonly values: Uint16Array;
}

/** A second-level quantized statistic (§6): first-level `[rows, groups]` values as codes plus per-(row-group, group) f16 scale/zero. */
export interface BilevelStat {
  /** Bits of each code (e.g. 3). */
  readonly bits: PackedBits;
  /** Rows per second-level group (e.g. 16). */
  readonly groupRows: number;
  /** `[rows, groups]` codes, rows packed per §1 along the groups axis. */
  readonly codes: Uint8Array;
  /** `[ceil(rows/groupRows), groups]` f16 bit patterns. */
  readonly scale: Uint16Array;
  /** `[ceil(rows/groupRows), groups]` f16 bit patterns (may be non-integer). */
  readonly zero: Uint16Array;
}

/** SpQR weight: small-group quantized base with bilevel statistics and f16 outliers (§2, §5, §6). */
export interface SpqrMatrix {
  readonly kind: 'spqr';
  readonly rows: number;
  readonly cols: number;
  readonly bits: PackedBits;
  /** First-level group size (e.g. 16), a divisor of `cols`. */
  readonly groupSize: number;
  /** `[rows, cols]` base codes, rows packed per §1. */
  readonly codes: Uint8Array;
  /** First-level scales, second-level quantized. */
  readonly scales: BilevelStat;
  /** First-level zero-points, second-level quantized. */
  readonly zeros: BilevelStat;
  readonly outliers: OutlierCsr;
}

/** Any packed weight a compressed kernel may consume. */
export type PackedMatrix = QuantizedMatrix | NMMatrix | NMQuantMatrix | SpqrMatrix;
