/// <reference types="@webgpu/types" />
/** Uploads a weight's arrays in row chunks that each fit a storage binding. */
import { withErrorScopes } from '../gpu-errors';
import type { GpuRuntime } from '../runtime';
import { planRowChunks } from '../split';
import type { DeviceWeight } from '../weight-cache';
import type { RowArray } from '../weight-layout';

/**
 * Splits `rows` output rows into chunks (at most `maxRows` each: one
 * workgroup row per grid step) and uploads every array's slice per chunk.
 */
export async function uploadRowChunks(
  rt: GpuRuntime,
  label: string,
  layout: string,
  rows: number,
  arrays: readonly RowArray[],
  maxRows: number,
): Promise<DeviceWeight> {
  const plan = planRowChunks(rows, arrays.map((a) => a.offset), rt.maxBinding, maxRows);
  const bytes = arrays.reduce((s, a) => s + a.offset(rows), 0);
  return withErrorScopes(rt.device, `uploading ${label}`, bytes, () => ({
    layout,
    bytes,
    chunks: plan.map(({ r0, r1 }) => ({ r0, r1, buffers: arrays.map((a, i) => rt.upload(a.slice(r0, r1), `${label} chunk ${r0}:${r1} #${i}`)) })),
  }));
}
