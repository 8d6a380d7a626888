/**
 * The sparq container's metadata (docs/format.md §10): the model-level
 * manifest `sparq.json`, the per-weight encoding record stored in each shard's
 * safetensors `__metadata__`, and the one table that maps an encoding to the
 * component tensors it is stored as (names, dtypes, shapes) — shared by the
 * writer (to lay tensors out) and the reader (to check them).
 */
import { SparqError, type DType } from '@sparq/tensor';
import type { BitsRole } from './accounting';
import { nmIndexBits } from './nm';
import { packedRowBytes } from './pack-bits';
import { outlierColsWide } from './spqr';

/** The container format version this code writes and reads. */
export const SPARQ_FORMAT_VERSION = 1;
/** Model-level manifest file name. */
export const SPARQ_MANIFEST_FILE = 'sparq.json';
/** Prefix of the `__metadata__` key holding a weight's record: `sparq:<logical name>`. */
export const WEIGHT_META_PREFIX = 'sparq:';
/** `__metadata__` key holding the format version of a shard. */
export const SHARD_VERSION_KEY = 'sparq_format_version';

/** Encodings of a packed weight. */
export type PackedKind = 'quant' | 'nm' | 'nm-quant' | 'spqr' | 'bitmask';
/** Float dtypes N:M / bitmask values may be stored in. */
export type ValueDType = 'f32' | 'f16' | 'bf16';

/** Second-level quantizer parameters of one SpQR statistic (§6). */
export interface StatParams {
  readonly bits: number;
  readonly group_rows: number;
}

/**
 * Encoding record of one packed logical weight, stored as JSON under
 * `__metadata__["sparq:<name>"]` of the shard holding its components.
 */
export interface WeightRecord {
  readonly format_version: number;
  readonly kind: PackedKind;
  /** `[rows, cols]` of the logical weight (PyTorch Linear layout). */
  readonly shape: readonly [number, number];
  /** N:M pattern (`nm`, `nm-quant`). */
  readonly n?: number;
  readonly m?: number;
  /** Code bits (`quant`, `nm-quant`, `spqr`). */
  readonly bits?: number;
  /** Group size in original columns (`quant`, `nm-quant`, `spqr`). */
  readonly group_size?: number;
  /** Symmetric (`quant`, `nm-quant`; SpQR is always asymmetric). */
  readonly sym?: boolean;
  /** Always `"f16"` in version 1 (quantized kinds). */
  readonly scale_dtype?: 'f16';
  /** Dtype of stored float values (`nm`, `bitmask`). */
  readonly value_dtype?: ValueDType;
  /** SpQR: second-level parameters of scales and zero-points. */
  readonly scale_stat?: StatParams;
  readonly zero_stat?: StatParams;
  /** SpQR: outlier count. */
  readonly outliers?: number;
  /** Bitmask: stored value count. */
  readonly nnz?: number;
  /** Algorithm that produced it (free text, e.g. `"sparsegpt+gptq"`). */
  readonly method?: string;
  /** Name of the tensor it was compressed from (in the source checkpoint). */
  readonly source?: string;
  /** Dtype of that source tensor (what a dense export casts back to with `--dtype source`). */
  readonly source_dtype?: ValueDType;
  /** Component key → stored tensor name. */
  readonly components: Readonly<Record<string, string>>;
}

/** One component tensor an encoding is stored as. */
export interface ComponentSpec {
  /** Key in {@link WeightRecord.components} (e.g. `codes`, `scales.scale`). */
  readonly key: string;
  readonly role: BitsRole;
  /** Stored safetensors dtype. u16 / u32 data are stored under I16 / I32 (same bits). */
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** Where a stored tensor lives and its checksum (manifest `tensors` entry). */
export interface TensorRecord {
  readonly shard: string;
  /** Lower-case hex SHA-256 of the tensor's data bytes. */
  readonly sha256: string;
}

/** A logical weight in the manifest. */
export interface ManifestWeight {
  /** `dense` for a plain tensor, else the {@link PackedKind}. */
  readonly kind: 'dense' | PackedKind;
  /** Shard holding the weight (all components live in one shard). */
  readonly shard: string;
}

/** The model-level manifest `sparq.json`. */
export interface ContainerManifest {
  readonly format: 'sparq';
  readonly format_version: number;
  /** Tool that wrote it. */
  readonly tool: { readonly name: string; readonly version: string };
  /** The model's HF `config.json` content (also written as `config.json`), or null. */
  readonly architecture: Record<string, unknown> | null;
  /** Tokenizer files copied beside the manifest (file names). */
  readonly tokenizer_files: readonly string[];
  /** The recipe that produced the container (free-form JSON), or null. */
  readonly recipe: unknown;
  /** Logical weights in write order. */
  readonly weights: Readonly<Record<string, ManifestWeight>>;
  /** Every stored tensor. */
  readonly tensors: Readonly<Record<string, TensorRecord>>;
}

function bad(file: string, message: string, found?: unknown, tensor?: string): SparqError {
  return new SparqError('E_CONTAINER', `${file}: ${message}`, {
    details: { file, ...(tensor !== undefined ? { tensor } : {}), ...(found !== undefined ? { found } : {}) },
    hint: 'the container is damaged or was not written by sparq; re-export it',
  });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function posInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Throws `E_FORMAT_VERSION` unless `v` is a version this reader supports. */
export function checkFormatVersion(v: unknown, file: string, tensor?: string): void {
  if (v !== SPARQ_FORMAT_VERSION) {
    throw new SparqError('E_FORMAT_VERSION', `${file}: sparq format version ${JSON.stringify(v)} is not supported (this reader supports ${SPARQ_FORMAT_VERSION})`, {
      details: { file, ...(tensor !== undefined ? { tensor } : {}), expected: SPARQ_FORMAT_VERSION, found: v },
      hint: 'upgrade sparq, or re-export the model with this version',
    });
  }
}

/** Parses and checks `sparq.json` text. Throws `E_FORMAT_VERSION` / `E_CONTAINER`. */
export function parseManifest(text: string, file: string): ContainerManifest {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (cause) {
    throw new SparqError('E_CONTAINER', `${file}: not valid JSON (${(cause as Error).message})`, { details: { file }, cause });
  }
  if (!isObj(j) || j.format !== 'sparq') throw bad(file, 'not a sparq manifest (missing "format": "sparq")', isObj(j) ? j.format : j);
  checkFormatVersion(j.format_version, file);
  if (!isObj(j.weights)) throw bad(file, '"weights" must be an object');
  if (!isObj(j.tensors)) throw bad(file, '"tensors" must be an object');
  for (const [name, w] of Object.entries(j.weights)) {
    if (!isObj(w) || typeof w.shard !== 'string' || typeof w.kind !== 'string') throw bad(file, `weight "${name}" needs "kind" and "shard"`, w, name);
    if (!['dense', 'quant', 'nm', 'nm-quant', 'spqr', 'bitmask'].includes(w.kind)) throw bad(file, `weight "${name}" has unknown kind "${w.kind}"`, w.kind, name);
  }
  for (const [name, t] of Object.entries(j.tensors)) {
    if (!isObj(t) || typeof t.shard !== 'string' || typeof t.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(t.sha256)) {
      throw bad(file, `tensor "${name}" needs "shard" and a hex "sha256"`, t, name);
    }
  }
  const tokenizerFiles = j.tokenizer_files ?? [];
  if (!Array.isArray(tokenizerFiles) || !tokenizerFiles.every((f) => typeof f === 'string' && !f.includes('/') && !f.includes('\\'))) {
    throw bad(file, '"tokenizer_files" must be a list of plain file names', j.tokenizer_files);
  }
  const architecture = j.architecture ?? null;
  if (architecture !== null && !isObj(architecture)) throw bad(file, '"architecture" must be an object or null', j.architecture);
  const tool = isObj(j.tool) ? j.tool : {};
  return {
    format: 'sparq',
    format_version: SPARQ_FORMAT_VERSION,
    tool: { name: String(tool.name ?? 'unknown'), version: String(tool.version ?? 'unknown') },
    architecture,
    tokenizer_files: tokenizerFiles as string[],
    recipe: j.recipe ?? null,
    weights: j.weights as Record<string, ManifestWeight>,
    tensors: j.tensors as Record<string, TensorRecord>,
  };
}

/** Parses and checks one weight record (the JSON under `sparq:<name>`). */
export function parseWeightRecord(text: string, file: string, name: string): WeightRecord {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (cause) {
    throw new SparqError('E_CONTAINER', `${file}: metadata of weight "${name}" is not valid JSON`, { details: { file, tensor: name }, cause });
  }
  if (!isObj(j)) throw bad(file, `metadata of weight "${name}" must be an object`, j, name);
  checkFormatVersion(j.format_version, file, name);
  const kind = j.kind;
  if (kind !== 'quant' && kind !== 'nm' && kind !== 'nm-quant' && kind !== 'spqr' && kind !== 'bitmask') {
    throw bad(file, `weight "${name}" has unknown kind ${JSON.stringify(kind)}`, kind, name);
  }
  const shape = j.shape;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every(posInt)) throw bad(file, `weight "${name}": "shape" must be [rows, cols]`, shape, name);
  const need = (k: string, test: (v: unknown) => boolean, what: string): void => {
    if (!test(j[k])) throw bad(file, `weight "${name}" (${kind}): "${k}" must be ${what}`, j[k], name);
  };
  if (kind === 'nm' || kind === 'nm-quant') {
    need('n', posInt, 'an integer');
    need('m', posInt, 'an integer');
  }
  if (kind === 'quant' || kind === 'nm-quant' || kind === 'spqr') {
    need('bits', posInt, 'an integer');
    need('group_size', posInt, 'an integer');
    need('scale_dtype', (v) => v === 'f16', '"f16"');
  }
  if (kind === 'quant' || kind === 'nm-quant') need('sym', (v) => typeof v === 'boolean', 'a boolean');
  if (kind === 'nm' || kind === 'bitmask') need('value_dtype', (v) => v === 'f32' || v === 'f16' || v === 'bf16', 'f32, f16 or bf16');
  if (kind === 'spqr') {
    const stat = (v: unknown): boolean => isObj(v) && posInt(v.bits) && posInt(v.group_rows);
    need('scale_stat', stat, '{ bits, group_rows }');
    need('zero_stat', stat, '{ bits, group_rows }');
    need('outliers', posInt, 'an integer');
  }
  if (kind === 'bitmask') need('nnz', posInt, 'an integer');
  if (j.source_dtype !== undefined) need('source_dtype', (v) => v === 'f32' || v === 'f16' || v === 'bf16', 'f32, f16 or bf16');
  need('components', (v) => isObj(v) && Object.values(v).every((s) => typeof s === 'string'), 'an object of tensor names');
  return j as unknown as WeightRecord;
}

/** Throws `E_SHAPE_MISMATCH` naming the weight (the record contradicts what its encoding allows). */
function shapeErr(file: string, name: string, message: string, expected: unknown, found: unknown): SparqError {
  return new SparqError('E_SHAPE_MISMATCH', `${file}: weight "${name}": ${message}`, {
    details: { file, tensor: name, expected, found },
    hint: 'the container metadata contradicts itself; re-export it',
  });
}

/**
 * The component tensors a record's encoding is stored as, with their exact
 * dtypes and shapes (docs/format.md §10.3). Checks the record's parameters
 * first: `E_SHAPE_MISMATCH` when the N:M group or quantization group does not
 * divide the columns, `E_CONTAINER` for unsupported bit widths.
 */
export function componentSpecs(r: WeightRecord, file = '<memory>', name = '<weight>'): ComponentSpec[] {
  const [rows, cols] = r.shape;
  const codeBits = (b: number | undefined): number => {
    if (b !== 2 && b !== 3 && b !== 4 && b !== 8) throw bad(file, `weight "${name}": unsupported code width ${b}`, b, name);
    return b;
  };
  const nm = (): { n: number; m: number; kept: number } => {
    const n = r.n!;
    const m = r.m!;
    if (n < 1 || n >= m || m > 16) throw bad(file, `weight "${name}": unsupported N:M pattern ${n}:${m}`, `${n}:${m}`, name);
    if (cols % m !== 0) throw shapeErr(file, name, `${n}:${m} groups of ${m} do not divide ${cols} columns`, `cols % ${m} = 0`, cols);
    return { n, m, kept: (cols / m) * n };
  };
  const groups = (mult = 1): number => {
    const g = r.group_size!;
    if (g < 1 || cols % g !== 0 || g % mult !== 0) {
      throw shapeErr(file, name, `group size ${g} must divide ${cols} columns${mult > 1 ? ` and be a multiple of ${mult}` : ''}`, `divisor of ${cols}`, g);
    }
    return cols / g;
  };
  const c = (key: string, role: BitsRole, dtype: DType, shape: number[]): ComponentSpec => ({ key, role, dtype, shape });
  switch (r.kind) {
    case 'quant': {
      const b = codeBits(r.bits);
      const G = groups();
      return [
        c('codes', 'values', 'u8', [rows, packedRowBytes(cols, b)]),
        c('scales', 'scales', 'f16', [rows, G]),
        ...(r.sym ? [] : [c('zeros', 'zeros', 'u8', [rows, packedRowBytes(G, b)])]),
      ];
    }
    case 'nm': {
      const { m, kept } = nm();
      return [c('values', 'values', r.value_dtype!, [rows, kept]), c('indices', 'indices', 'u8', [rows, packedRowBytes(kept, nmIndexBits(m))])];
    }
    case 'nm-quant': {
      const b = codeBits(r.bits);
      const { m, kept } = nm();
      const G = groups(m);
      return [
        c('codes', 'values', 'u8', [rows, packedRowBytes(kept, b)]),
        c('indices', 'indices', 'u8', [rows, packedRowBytes(kept, nmIndexBits(m))]),
        c('scales', 'scales', 'f16', [rows, G]),
        ...(r.sym ? [] : [c('zeros', 'zeros', 'u8', [rows, packedRowBytes(G, b)])]),
      ];
    }
    case 'spqr': {
      const b = codeBits(r.bits);
      const G = groups();
      const stat = (prefix: 'scales' | 'zeros', s: StatParams): ComponentSpec[] => {
        const sb = codeBits(s.bits);
        if (s.group_rows < 1) throw bad(file, `weight "${name}": ${prefix} second-level group must be ≥ 1 row`, s.group_rows, name);
        const blocks = Math.ceil(rows / s.group_rows);
        return [
          c(`${prefix}.codes`, prefix, 'u8', [rows, packedRowBytes(G, sb)]),
          c(`${prefix}.scale`, 'stats', 'f16', [blocks, G]),
          c(`${prefix}.zero`, 'stats', 'f16', [blocks, G]),
        ];
      };
      const nnz = r.outliers!;
      return [
        c('codes', 'values', 'u8', [rows, packedRowBytes(cols, b)]),
        ...stat('scales', r.scale_stat!),
        ...stat('zeros', r.zero_stat!),
        c('outlier_row_ptr', 'outliers', 'i32', [rows + 1]),
        c('outlier_cols', 'outliers', outlierColsWide(cols) ? 'i32' : 'i16', [nnz]),
        c('outlier_values', 'outliers', 'f16', [nnz]),
      ];
    }
    case 'bitmask':
      return [c('mask', 'indices', 'u8', [rows, packedRowBytes(cols, 1)]), c('values', 'values', r.value_dtype!, [r.nnz!])];
  }
}
