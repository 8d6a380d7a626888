/** What the loaded model's weights cost: packed bytes as stored vs the same weights as dense f32. */
import type { ModelAccounting } from '@sparq/format';

/** Weight sizes of a container, from its exact bit accounting. */
export interface WeightBytes {
  /** Bytes of every stored weight as packed (codes, indices, scales, outliers, plain tensors as stored). */
  packed: number;
  /** Bytes of the same weights as dense f32 (4 bytes per parameter). */
  denseF32: number;
  /** Parameters. */
  params: number;
  /** Average stored bits per parameter. */
  bitsPerWeight: number;
  /** Average stored bits per parameter of the compressed (packed) weights only. */
  compressedBitsPerWeight: number;
}

/** Packed vs dense-f32 bytes of a container's weights. */
export function weightBytes(acc: ModelAccounting): WeightBytes {
  return { packed: acc.totalBits / 8, denseF32: acc.params * 4, params: acc.params, bitsPerWeight: acc.bitsPerWeight, compressedBitsPerWeight: acc.compressedBitsPerWeight };
}

/** `1234567` → `1.23 MB`; below 1 kB in bytes. Decimal units, as file sizes are shown. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}
