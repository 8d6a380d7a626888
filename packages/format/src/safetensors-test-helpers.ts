/**
 * Test-only helpers for the safetensors tests (not exported from the package):
 * a hand-rolled file builder for malformed inputs and an independent decoder
 * that reads values with DataView, sharing no code with the reader under test.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSparqError, type SparqError } from '@sparq/tensor';

/**
 * Bytes of a safetensors file: the u64 length (or `lengthOverride`), the header
 * (a string is used verbatim, anything else is JSON-encoded), then `data`.
 */
export function buildSafetensorsBytes(
  header: unknown,
  data: Uint8Array | number = 0,
  lengthOverride?: bigint,
): Uint8Array {
  const h = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.byteLength + d.byteLength);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.byteLength), true);
  out.set(h, 8);
  out.set(d, 8 + h.byteLength);
  return out;
}

/** A fresh temp folder and a function to remove it. */
export async function makeTempDir(prefix = 'sparq-format-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `bytes` to `dir/name` and returns the path. */
export async function writeBytes(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}

/** One tensor decoded independently: dtype string, shape and values as numbers (bigint for I64). */
export interface DecodedTensor {
  dtype: string;
  shape: number[];
  values: (number | bigint)[];
}

/**
 * Decodes every tensor of a safetensors file with a DataView loop. F16/BF16
 * values are the raw 16-bit patterns (as the reader's storage holds them).
 */
export async function decodeIndependently(path: string): Promise<Map<string, DecodedTensor>> {
  const buf = await readFile(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, DecodedTensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const start = 8 + n + e.data_offsets[0];
    const end = 8 + n + e.data_offsets[1];
    const values: (number | bigint)[] = [];
    const step = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }[e.dtype]!;
    for (let p = start; p < end; p += step) {
      switch (e.dtype) {
        case 'F64': values.push(view.getFloat64(p, true)); break;
        case 'F32': values.push(view.getFloat32(p, true)); break;
        case 'F16': case 'BF16': values.push(view.getUint16(p, true)); break;
        case 'I64': values.push(view.getBigInt64(p, true)); break;
        case 'I32': values.push(view.getInt32(p, true)); break;
        case 'I16': values.push(view.getInt16(p, true)); break;
        case 'I8': values.push(view.getInt8(p)); break;
        default: values.push(view.getUint8(p));
      }
    }
    out.set(name, { dtype: e.dtype, shape: e.shape, values });
  }
  return out;
}

/** The SparqError `p` rejects with; throws if it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<SparqError> {
  const outcome = await p.then(
    () => ({ ok: true as const }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (outcome.ok) throw new Error('expected a rejection, but the promise resolved');
  if (!isSparqError(outcome.e)) throw new Error(`expected a SparqError, got ${String(outcome.e)}`);
  return outcome.e;
}
