/**
 * Mask selection: prune the lowest scores of a comparison group (a layer, a
 * row, a SparseGPT block) or of every N:M group. Scores are non-negative and
 * finite; the callers check their inputs.
 */

/** How ties at the threshold are resolved for unstructured selection. */
export type TieRule = 'exact' | 'reference';

/**
 * Marks (sets to 1) `k` entries of `mask` (same indexing as `scores`) with the
 * lowest scores.
 * - `'exact'`: exactly `k` entries, lowest scores first, ties broken by lower index.
 * - `'reference'`: the reference code's rule `score ≤ sorted[k]`, i.e. at least
 *   `k + 1` entries (every entry tying with the (k+1)-th smallest too).
 *
 * `scratch` (length ≥ scores.length) avoids an allocation per call. O(n) expected.
 * Returns the number of entries marked.
 */
export function pruneLowest(scores: Float64Array, k: number, mask: Uint8Array, rule: TieRule, scratch?: Float64Array): number {
  const n = scores.length;
  if (n === 0 || (rule === 'exact' && k <= 0)) return 0;
  const work = scratch && scratch.length >= n ? scratch.subarray(0, n) : new Float64Array(n);
  work.set(scores);
  if (rule === 'reference') {
    const t = kthSmallest(work, Math.min(k, n - 1));
    let c = 0;
    for (let i = 0; i < n; i++) {
      if (scores[i]! <= t) {
        mask[i] = 1;
        c++;
      }
    }
    return c;
  }
  const kk = Math.min(k, n);
  const t = kthSmallest(work, kk - 1);
  // Entries strictly below the k-th smallest are all pruned; the rest of the
  // quota goes to entries equal to it, in index order.
  let below = 0;
  for (let i = 0; i < n; i++) below += scores[i]! < t ? 1 : 0;
  let ties = kk - below;
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    if (s < t) mask[i] = 1;
    else if (s === t && ties > 0) {
      mask[i] = 1;
      ties--;
    }
  }
  return kk;
}

/**
 * The value of rank `k` (0-based) in `a`, i.e. `sorted(a)[k]`, by in-place
 * quickselect (median-of-three pivot, Hoare partition, which splits runs of
 * equal values evenly so ties cannot make it quadratic). Reorders `a`. O(n)
 * expected instead of sorting: the unstructured masks of 4096-wide layers
 * select among 16 M scores.
 */
export function kthSmallest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    if (hi - lo < 16) {
      // Insertion sort for short ranges.
      for (let i = lo + 1; i <= hi; i++) {
        const v = a[i]!;
        let j = i - 1;
        while (j >= lo && a[j]! > v) {
          a[j + 1] = a[j]!;
          j--;
        }
        a[j + 1] = v;
      }
      return a[k]!;
    }
    const mid = (lo + hi) >>> 1;
    // Median of three into a[mid].
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    // Now a[lo..j] ≤ pivot ≤ a[i..hi], and lo..j, j+1..i-1 (== pivot), i..hi.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/**
 * In one N:M group (`m` scores at `scores[off + j·stride]`), marks the
 * `prune = m − n` lowest in `mask[maskOff + j·maskStride]`; ties go to the lower index.
 */
export function pruneNmGroup(
  scores: Float64Array,
  off: number,
  stride: number,
  m: number,
  prune: number,
  mask: Uint8Array,
  maskOff: number,
  maskStride: number,
): void {
  for (let p = 0; p < prune; p++) {
    let best = -1;
    let bestScore = Infinity;
    for (let j = 0; j < m; j++) {
      if (mask[maskOff + j * maskStride] !== 0) continue;
      const s = scores[off + j * stride]!;
      // Strict '<' keeps the earliest index among equal scores.
      if (best < 0 || s < bestScore) {
        best = j;
        bestScore = s;
      }
    }
    mask[maskOff + best * maskStride] = 1;
  }
}
