/**
 * Building blocks of the blocked OBS error feedback shared by GPTQ and SpQR:
 * the lazy cross-block update and the act-order column permutations.
 */

/** Lazy-update tile width (columns): 128 rows of U × 256 columns × 8 B = 256 KiB stays in L2. */
const TILE = 256;

/** `W[:, i2:] −= Err · U[i1:i2, i2:]`, tiled over columns so the U tile stays cached, four error terms at a time. */
export function lazyUpdate(W: Float64Array, err: Float64Array, U: Float64Array, rows: number, cols: number, i1: number, i2: number): void {
  const count = i2 - i1;
  for (let jc = i2; jc < cols; jc += TILE) {
    const je = Math.min(jc + TILE, cols);
    let r = 0;
    // Two rows at a time share every load of U.
    for (; r + 1 < rows; r += 2) {
      const wa = r * cols;
      const wb = wa + cols;
      const ea = r * count;
      const eb = ea + count;
      let k = 0;
      for (; k + 3 < count; k += 4) {
        const a0 = err[ea + k]!;
        const a1 = err[ea + k + 1]!;
        const a2 = err[ea + k + 2]!;
        const a3 = err[ea + k + 3]!;
        const b0 = err[eb + k]!;
        const b1 = err[eb + k + 1]!;
        const b2 = err[eb + k + 2]!;
        const b3 = err[eb + k + 3]!;
        const u0 = (i1 + k) * cols;
        const u1 = u0 + cols;
        const u2 = u1 + cols;
        const u3 = u2 + cols;
        for (let j = jc; j < je; j++) {
          const x0 = U[u0 + j]!;
          const x1 = U[u1 + j]!;
          const x2 = U[u2 + j]!;
          const x3 = U[u3 + j]!;
          W[wa + j] -= a0 * x0 + a1 * x1 + (a2 * x2 + a3 * x3);
          W[wb + j] -= b0 * x0 + b1 * x1 + (b2 * x2 + b3 * x3);
        }
      }
      for (; k < count; k++) {
        const a = err[ea + k]!;
        const b = err[eb + k]!;
        const u = (i1 + k) * cols;
        for (let j = jc; j < je; j++) {
          const x = U[u + j]!;
          W[wa + j] -= a * x;
          W[wb + j] -= b * x;
        }
      }
    }
    for (; r < rows; r++) {
      const wo = r * cols;
      const eo = r * count;
      for (let k = 0; k < count; k++) {
        const e = err[eo + k]!;
        if (e === 0) continue;
        const u = (i1 + k) * cols;
        for (let j = jc; j < je; j++) W[wo + j] -= e * U[u + j]!;
      }
    }
  }
}

/** Columns in processing order: `out[:, j] = a[:, perm[j]]`. */
export function permuteColumns(a: Float64Array, rows: number, cols: number, perm: Int32Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) out[o + j] = a[o + perm[j]!]!;
  }
  return out;
}

/** Back to original order: `out[:, perm[j]] = a[:, j]`. */
export function unpermuteColumns<T extends Float64Array | Uint8Array>(a: T, rows: number, cols: number, perm: Int32Array): T {
  const out = new (a.constructor as new (n: number) => T)(a.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) out[o + perm[j]!] = a[o + j]!;
  }
  return out;
}
