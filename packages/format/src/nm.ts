/**
 * N:M sparsity (docs/format.md §3): N values kept in every group of M
 * consecutive input columns. Validation of a mask or a pruned matrix,
 * compression to {@link NMMatrix} (kept values + packed in-group positions)
 * and decompression back to dense f32.
 */
import { SparqError, type NMMatrix } from '@sparq/tensor';
import { expectDims, expectLength } from './checks';
import { packBits, packedRowBytes, unpackBits } from './pack-bits';

/** Bits of one in-group position: `ceil(log2 m)` (1 for M = 2, 2 for M ≤ 4, 3 for M ≤ 8, 4 for M ≤ 16). */
export function nmIndexBits(m: number): number {
  return Math.max(1, Math.ceil(Math.log2(m)));
}

/**
 * Throws unless `1 ≤ n < m ≤ 16` (`E_ARG`) and `m` divides `cols`
 * (`E_SHAPE_MISMATCH`, §3: no implicit padding).
 */
export function checkNMPattern(what: string, cols: number, n: number, m: number): void {
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 1 || n >= m || m > 16) {
    throw new SparqError('E_ARG', `${what}: unsupported N:M pattern ${n}:${m}`, {
      details: { tensor: what, expected: '1 ≤ N < M ≤ 16', found: `${n}:${m}` },
    });
  }
  if (cols % m !== 0) {
    throw new SparqError('E_SHAPE_MISMATCH', `${what}: ${n}:${m} groups of ${m} do not divide ${cols} columns`, {
      details: { tensor: what, expected: `columns divisible by ${m}`, found: cols },
      hint: 'N:M sparsity needs the input dimension to be a multiple of M',
    });
  }
}

/**
 * Validates that at most `n` entries of every group of `m` consecutive columns
 * are kept (nonzero in `values`, or 1 in a 0/1 mask). Throws `E_ARG` naming
 * the first offending row and group (and how many it keeps).
 * @example
 * validateNM(Float32Array.of(1, 0, 2, 0), 1, 4, 2, 4); // ok
 */
export function validateNM(values: ArrayLike<number>, rows: number, cols: number, n: number, m: number, what = 'weight'): void {
  expectDims(what, rows, cols);
  checkNMPattern(what, cols, n, m);
  expectLength(what, values.length, rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols / m; g++) {
      let kept = 0;
      const base = r * cols + g * m;
      for (let j = 0; j < m; j++) if (values[base + j] !== 0) kept++;
      if (kept > n) {
        throw new SparqError('E_ARG', `${what}: row ${r}, group ${g} (columns ${g * m}..${g * m + m - 1}) keeps ${kept} of ${m}, more than ${n}`, {
          details: { tensor: what, expected: `≤ ${n} nonzeros per group of ${m}`, found: kept },
          hint: 'prune the weight to the N:M pattern before compressing it',
        });
      }
    }
  }
}

/**
 * Selects the `n` slots of every group (§3): the kept positions (nonzero
 * entries of `keep`), then — for a group with fewer — its lowest-index unused
 * positions, all in increasing order. Returns `[rows, cols·n/m]` positions
 * (unpacked). Assumes {@link validateNM} passed.
 */
export function selectNMSlots(keep: ArrayLike<number>, rows: number, cols: number, n: number, m: number): Uint8Array {
  const groups = cols / m;
  const slots = new Uint8Array(rows * groups * n);
  const used = new Uint8Array(m);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const base = r * cols + g * m;
      let kept = 0;
      for (let j = 0; j < m; j++) {
        used[j] = keep[base + j] !== 0 ? 1 : 0;
        kept += used[j]!;
      }
      // Pad with the lowest-index unused positions so every group has n slots.
      for (let j = 0; j < m && kept < n; j++) {
        if (!used[j]) {
          used[j] = 1;
          kept++;
        }
      }
      let o = (r * groups + g) * n;
      for (let j = 0; j < m; j++) if (used[j]) slots[o++] = j;
    }
  }
  return slots;
}

/**
 * Compresses a dense, already N:M-pruned `[rows, cols]` matrix to an
 * {@link NMMatrix} (§3). Kept = nonzero. With `mask` (0/1, same shape), the
 * kept positions are the mask's ones instead (so a kept weight that happens to
 * be 0 keeps its slot); every entry outside the mask must then be 0.
 * Throws `E_ARG` for a group keeping more than `n`, `E_SHAPE_MISMATCH` for
 * `cols % m ≠ 0` or wrong lengths.
 */
export function compressNM(
  dense: ArrayLike<number>,
  rows: number,
  cols: number,
  n: number,
  m: number,
  mask?: ArrayLike<number>,
  what = 'weight',
): NMMatrix {
  validateNM(mask ?? dense, rows, cols, n, m, mask ? `${what} mask` : what);
  expectLength(what, dense.length, rows * cols);
  if (mask) {
    for (let i = 0; i < dense.length; i++) {
      if (mask[i] === 0 && dense[i] !== 0) {
        throw new SparqError('E_ARG', `${what}: row ${Math.floor(i / cols)}, column ${i % cols} is ${dense[i]} but pruned by the mask`, {
          details: { tensor: what, expected: 0, found: dense[i] },
          hint: 'apply the mask to the weight before compressing it',
        });
      }
    }
  }
  const slots = selectNMSlots(mask ?? dense, rows, cols, n, m);
  const kept = (cols / m) * n;
  const values = new Float32Array(rows * kept);
  const groups = cols / m;
  let k = 0;
  for (let r = 0; r < rows; r++) {
    for (let g = 0, base = r * cols; g < groups; g++, base += m) {
      // Read the dense entry even for padding slots (it is ±0), so -0 survives.
      for (let s = 0; s < n; s++, k++) values[k] = dense[base + slots[k]!]!;
    }
  }
  return { kind: 'nm', rows, cols, n, m, values, indices: packBits(slots, rows, kept, nmIndexBits(m), `${what}.indices`) };
}

/**
 * Unpacks and checks the position indices of an N:M matrix: `[rows, cols·n/m]`
 * positions, each `< m` and strictly increasing within its group. Throws
 * `E_ARG` naming the first bad row/group.
 */
export function unpackNMIndices(indices: Uint8Array, rows: number, cols: number, n: number, m: number, what = 'weight'): Uint8Array {
  checkNMPattern(what, cols, n, m);
  const kept = (cols / m) * n;
  const pos = unpackBits(indices, rows, kept, nmIndexBits(m), `${what}.indices`);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < kept; k++) {
      const p = pos[r * kept + k]!;
      const first = k % n === 0;
      if (p >= m || (!first && p <= pos[r * kept + k - 1]!)) {
        const g = Math.floor(k / n);
        throw new SparqError('E_ARG', `${what}.indices: row ${r}, group ${g}: positions must be < ${m} and strictly increasing, found ${Array.from(pos.subarray(r * kept + g * n, r * kept + g * n + n)).join(',')}`, {
          details: { tensor: `${what}.indices`, expected: `strictly increasing in [0, ${m - 1}]`, found: p },
        });
      }
    }
  }
  return pos;
}

/** Checks an {@link NMMatrix}'s arrays against its shape; throws `E_SHAPE_MISMATCH` / `E_ARG`. */
export function validateNMMatrix(x: NMMatrix, what = 'weight'): void {
  expectDims(what, x.rows, x.cols);
  checkNMPattern(what, x.cols, x.n, x.m);
  const kept = (x.cols / x.m) * x.n;
  expectLength(`${what}.values`, x.values.length, x.rows * kept);
  expectLength(`${what}.indices`, x.indices.length, x.rows * packedRowBytes(kept, nmIndexBits(x.m)), 'bytes');
}

/** Scatters `[rows, cols·n/m]` values to dense `[rows, cols]` by their positions (§3 decoding). Shared with §4. */
export function scatterNM(values: Float32Array, pos: Uint8Array, rows: number, cols: number, n: number, m: number, out: Float32Array): Float32Array {
  out.fill(0);
  const groups = cols / m;
  let k = 0;
  for (let r = 0; r < rows; r++) {
    for (let g = 0, base = r * cols; g < groups; g++, base += m) {
      for (let s = 0; s < n; s++, k++) out[base + pos[k]!] = values[k]!;
    }
  }
  return out;
}

/** Decompresses an {@link NMMatrix} to dense row-major f32 `[rows, cols]` (§3). */
export function decompressNM(x: NMMatrix, out = new Float32Array(x.rows * x.cols), what = 'weight'): Float32Array {
  validateNMMatrix(x, what);
  expectLength(`${what} output`, out.length, x.rows * x.cols);
  const pos = unpackNMIndices(x.indices, x.rows, x.cols, x.n, x.m, what);
  return scatterNM(x.values, pos, x.rows, x.cols, x.n, x.m, out);
}
