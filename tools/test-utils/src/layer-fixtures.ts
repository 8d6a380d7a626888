/**
 * Reader of the layer-level pruning / quantization reference fixtures
 * (`../shared/reference/layer`, format in its README). Deliberately
 * independent of @sparq/format: a bug in our safetensors reader must not be
 * able to hide a solver bug. Only F64 and U8 tensors occur.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sharedDir } from './index';

/** A tensor of a fixture file. */
export interface FixtureTensor {
  shape: number[];
  data: Float64Array | Uint8Array;
}

/** One case: its JSON (params, expected, tie_margins…), inputs and outputs. */
export interface LayerCase {
  id: string;
  algorithm: string;
  variant: string;
  rows: number;
  cols: number;
  /** Everything in `cases/<id>.json` (params, expected, tie_margins, …). */
  json: {
    params: Record<string, unknown>;
    expected: Record<string, number>;
    tie_margins?: { fragile_rows?: number[] } & Record<string, unknown>;
    [k: string]: unknown;
  };
  /** `W` (rows×cols), `X` (n×cols), `H` (cols×cols), all float64 row-major. */
  W: Float64Array;
  X: Float64Array;
  H: Float64Array;
  /** Number of rows of X (samples). */
  n: number;
  /** Output tensors by name (`W_hat`, `mask`, `codes`, `scales`, `zeros`, `perm`, `wanda_scaler`, `row_recon_sq_error`). */
  outputs: Record<string, FixtureTensor>;
}

/** Parses a safetensors file holding only F64 / U8 tensors. */
export function readFixtureSafetensors(path: string): Record<string, FixtureTensor> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + n;
  const out: Record<string, FixtureTensor> = {};
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, end] = e.data_offsets;
    const bytes = buf.subarray(base + b, base + end);
    const copy = new Uint8Array(bytes); // aligned copy
    if (e.dtype === 'F64') out[name] = { shape: e.shape, data: new Float64Array(copy.buffer, 0, copy.length / 8) };
    else if (e.dtype === 'U8') out[name] = { shape: e.shape, data: copy };
    else throw new Error(`${path}: tensor ${name} has dtype ${e.dtype}; the fixture reader knows F64 and U8 only`);
  }
  return out;
}

/** The fixture folder: `$SPARQ_LAYER_FIXTURES`, default `<shared>/reference/layer`. */
export function layerFixturesDir(): string {
  return process.env.SPARQ_LAYER_FIXTURES ? resolve(process.env.SPARQ_LAYER_FIXTURES) : join(sharedDir(), 'reference', 'layer');
}

/** Every case listed in the fixture manifest, optionally only those of `algorithm`. Throws if the folder is missing. */
export function loadLayerCases(algorithm?: string): LayerCase[] {
  const dir = layerFixturesDir();
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    inputs: { id: string; rows: number; cols: number; nsamples: number; files: { W: string; X: string; H: string } }[];
    cases: { case_id: string; input_id: string; algorithm: string; variant: string; json: string }[];
  };
  const inputs = new Map(manifest.inputs.map((i) => [i.id, i]));
  const cache = new Map<string, Record<string, FixtureTensor>>();
  const file = (f: string) => {
    let t = cache.get(f);
    if (!t) cache.set(f, (t = readFixtureSafetensors(join(dir, f))));
    return t;
  };
  return manifest.cases
    .filter((c) => algorithm === undefined || c.algorithm === algorithm)
    .map((c) => {
      const inp = inputs.get(c.input_id);
      if (!inp) throw new Error(`fixture ${c.case_id}: input ${c.input_id} not in manifest`);
      const json = JSON.parse(readFileSync(join(dir, c.json), 'utf8')) as LayerCase['json'] & { outputs_file: string };
      const X = file(inp.files.X).X!;
      return {
        id: c.case_id,
        algorithm: c.algorithm,
        variant: c.variant,
        rows: inp.rows,
        cols: inp.cols,
        json,
        W: file(inp.files.W).W!.data as Float64Array,
        X: X.data as Float64Array,
        H: file(inp.files.H).H!.data as Float64Array,
        n: X.shape[0]!,
        outputs: readFixtureSafetensors(join(dir, json.outputs_file)),
      };
    });
}
