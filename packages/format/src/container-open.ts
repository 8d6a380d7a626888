/**
 * Lazy reader of a sparq container (docs/format.md §10) over any
 * {@link ByteSourceSet} — a local folder, files picked in a browser, or a
 * base URL. Opening reads the manifest and every shard header and
 * cross-checks them (format versions, per-weight records against the stored
 * tensors' dtypes and shapes); weights are read and decoded one at a time,
 * and SHA-256 checksums (Web Crypto) are verified on demand. No Node modules:
 * `openSparqContainer(folder)` in `container-read.ts` is the Node convenience.
 */
import {
  SparqError,
  Tensor,
  dtypeBytes,
  type DType,
  type PackedMatrix,
} from '@sparq/tensor';
import { accountComponents, accountDense, accountModel, type BitsRole, type ModelAccounting, type WeightAccounting } from './accounting';
import { decodeBitmask, type BitmaskMatrix } from './bitmask';
import {
  SHARD_VERSION_KEY,
  SPARQ_MANIFEST_FILE,
  WEIGHT_META_PREFIX,
  checkFormatVersion,
  componentSpecs,
  parseManifest,
  parseWeightRecord,
  type ContainerManifest,
  type PackedKind,
  type WeightRecord,
} from './container-manifest';
import type { ByteSourceSet } from './byte-source';
import { ioError } from './io-error';
import { decompressNM } from './nm';
import { decodeNMQuant } from './nm-quant';
import { decodeQuantized } from './quant-codec';
import { openSafetensorsSource, type SafetensorsFile } from './safetensors-source';
import { decodeSpqr } from './spqr';
import { describeSuggestions, suggestNames } from './suggest-names';

/** A stored component tensor of a weight. */
export interface StoredComponent {
  /** Component key (`codes`, `scales.scale`, …; `tensor` for a plain weight). */
  readonly key: string;
  /** Stored tensor name. */
  readonly name: string;
  readonly role: BitsRole;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** One logical weight of a container. */
export interface ContainerEntry {
  readonly name: string;
  /** `dense` for a plain tensor. */
  readonly kind: 'dense' | PackedKind;
  /** Logical shape (`[rows, cols]` for packed weights). */
  readonly shape: readonly number[];
  /** Stored dtype of a plain tensor; `f32` (decoded dtype) for packed ones. */
  readonly dtype: DType;
  /** The encoding record (packed weights only). */
  readonly record?: WeightRecord;
  /** Shard file name. */
  readonly shard: string;
  readonly components: readonly StoredComponent[];
}

/** Read options. */
export interface ReadOptions {
  /** Verify the SHA-256 of every tensor read (default false). */
  verify?: boolean;
}

/** An open sparq container. Call {@link SparqContainer.close} when done. */
export interface SparqContainer {
  readonly folder: string;
  readonly manifest: ContainerManifest;
  /** Logical weight names in manifest (write) order. */
  names(): string[];
  has(name: string): boolean;
  /** Kind, shape and stored components of a weight; `E_NOT_FOUND` if absent. */
  entry(name: string): ContainerEntry;
  /** The packed structure of a compressed weight, for kernels; `E_ARG` for a plain tensor. */
  readPacked(name: string, options?: ReadOptions): Promise<PackedMatrix | BitmaskMatrix>;
  /** A plain tensor in its stored dtype, or a packed weight decoded to f32 `[rows, cols]`. */
  readTensor(name: string, options?: ReadOptions): Promise<Tensor>;
  /** Any weight as f32 (plain tensors widened, packed ones decoded). */
  readF32(name: string, options?: ReadOptions): Promise<Tensor<'f32'>>;
  /** Verifies the SHA-256 of one weight's tensors, or of every tensor; `E_CHECKSUM` on mismatch. */
  verify(name?: string): Promise<void>;
  /** Exact stored bits per weight, per weight and in total. */
  accounting(): ModelAccounting;
  /** Closes every shard. Safe to call twice. */
  close(): Promise<void>;
}

function containerError(file: string, message: string, tensor?: string, found?: unknown): SparqError {
  return new SparqError('E_CONTAINER', `${file}: ${message}`, {
    details: { file, ...(tensor !== undefined ? { tensor } : {}), ...(found !== undefined ? { found } : {}) },
    hint: 'the container is damaged or incomplete; re-export it',
  });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** `location/name` for messages when no source has named the file yet. */
function fileLabel(location: string, name: string): string {
  return location.endsWith('/') ? `${location}${name}` : `${location}/${name}`;
}

/**
 * Opens a container from a set of named files. Throws `E_NOT_FOUND` without
 * `sparq.json` or a shard, `E_FORMAT_VERSION` for an unknown version,
 * `E_SAFETENSORS` for a truncated or corrupt shard, `E_SHAPE_MISMATCH` when
 * a weight's record contradicts its tensors (incl. an N:M group not dividing
 * the columns), and `E_CONTAINER` for other inconsistencies. Only the
 * manifest and the shards it names are opened; the container owns them and
 * closes them with {@link SparqContainer.close}.
 * @example
 * // In a browser, from the files of an <input type=file multiple>:
 * const c = await openSparqContainerFrom(byteSourceSet('selected files', [...input.files].map((f) => blobSource(f))));
 * const w = await c.readF32('model.layers.0.mlp.up_proj.weight');
 */
export async function openSparqContainerFrom(files: ByteSourceSet): Promise<SparqContainer> {
  const folder = files.location;
  let manifestPath = fileLabel(folder, SPARQ_MANIFEST_FILE);
  let text: string;
  try {
    const src = await files.open(SPARQ_MANIFEST_FILE);
    manifestPath = src.name;
    try {
      text = new TextDecoder().decode(await src.read(0, src.size));
    } finally {
      await src.close().catch(() => undefined);
    }
  } catch (e) {
    const err = ioError(e, manifestPath, 'read container manifest');
    if (err.code === 'E_NOT_FOUND') {
      throw new SparqError('E_NOT_FOUND', `${folder} is not a sparq container (no ${SPARQ_MANIFEST_FILE})`, { details: { file: manifestPath }, cause: e });
    }
    throw err;
  }
  const manifest = parseManifest(text, manifestPath);

  const shardNames = new Set<string>();
  for (const w of Object.values(manifest.weights)) shardNames.add(w.shard);
  for (const t of Object.values(manifest.tensors)) shardNames.add(t.shard);
  const shards = new Map<string, SafetensorsFile>();
  const closeAll = (): Promise<unknown> => Promise.all([...shards.values()].map((f) => f.close().catch(() => undefined)));
  try {
    for (const s of [...shardNames].sort()) {
      if (s.includes('/') || s.includes('\\') || s === '..' || s === '.') throw containerError(manifestPath, `shard "${s}" must be a plain file name in the container folder`, undefined, s);
      const f = await openSafetensorsSource(await files.open(s));
      shards.set(s, f);
      checkFormatVersion(f.metadata[SHARD_VERSION_KEY] === undefined ? undefined : Number(f.metadata[SHARD_VERSION_KEY]), f.path);
    }
    for (const [name, t] of Object.entries(manifest.tensors)) {
      const f = shards.get(t.shard)!;
      if (!f.has(name)) throw containerError(f.path, `tensor "${name}" listed in ${SPARQ_MANIFEST_FILE} is missing from the shard`, name);
    }
    const entries = new Map<string, ContainerEntry>();
    for (const [name, w] of Object.entries(manifest.weights)) entries.set(name, buildEntry(name, w.kind, w.shard, shards.get(w.shard)!, manifest));
    return createContainer(folder, manifest, shards, entries, closeAll);
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** Checks one weight against its shard and builds its entry. */
function buildEntry(name: string, kind: ContainerEntry['kind'], shard: string, f: SafetensorsFile, manifest: ContainerManifest): ContainerEntry {
  const inManifest = (tname: string): void => {
    if (manifest.tensors[tname] === undefined) throw containerError(f.path, `tensor "${tname}" of weight "${name}" has no checksum entry in ${SPARQ_MANIFEST_FILE}`, tname);
  };
  if (kind === 'dense') {
    if (!f.has(name)) throw containerError(f.path, `plain weight "${name}" is missing from the shard`, name);
    inManifest(name);
    const info = f.info(name);
    return { name, kind, shape: info.shape, dtype: info.dtype, shard, components: [{ key: 'tensor', name, role: 'values', dtype: info.dtype, shape: info.shape }] };
  }
  const raw = f.metadata[`${WEIGHT_META_PREFIX}${name}`];
  if (raw === undefined) throw containerError(f.path, `no metadata "${WEIGHT_META_PREFIX}${name}" for packed weight "${name}"`, name);
  const record = parseWeightRecord(raw, f.path, name);
  if (record.kind !== kind) throw containerError(f.path, `weight "${name}" is "${record.kind}" in the shard but "${kind}" in ${SPARQ_MANIFEST_FILE}`, name, record.kind);
  const components = componentSpecs(record, f.path, name).map((spec): StoredComponent => {
    const tname = record.components[spec.key];
    if (tname === undefined) throw containerError(f.path, `weight "${name}" (${record.kind}) lacks component "${spec.key}"`, name);
    if (!f.has(tname)) throw containerError(f.path, `component "${spec.key}" of weight "${name}" names tensor "${tname}", which the shard lacks`, tname);
    inManifest(tname);
    const info = f.info(tname);
    if (info.dtype !== spec.dtype || !sameShape(info.shape, spec.shape)) {
      const expected = `${spec.dtype} [${spec.shape.join(', ')}]`;
      const found = `${info.dtype} [${info.shape.join(', ')}]`;
      throw new SparqError('E_SHAPE_MISMATCH', `${f.path}: weight "${name}": its metadata (${describeRecord(record)}) needs ${spec.key} as ${expected}, but tensor "${tname}" is ${found}`, {
        details: { file: f.path, tensor: tname, expected, found },
        hint: 'the container metadata contradicts its tensors; re-export it',
      });
    }
    return { key: spec.key, name: tname, role: spec.role, dtype: spec.dtype, shape: spec.shape };
  });
  return { name, kind, shape: record.shape, dtype: 'f32', record, shard, components };
}

function describeRecord(r: WeightRecord): string {
  const parts: string[] = [r.kind, `[${r.shape.join(', ')}]`];
  if (r.n !== undefined) parts.push(`${r.n}:${r.m}`);
  if (r.bits !== undefined) parts.push(`${r.bits}-bit`);
  if (r.group_size !== undefined) parts.push(`g${r.group_size}`);
  if (r.outliers !== undefined) parts.push(`${r.outliers} outliers`);
  return parts.join(' ');
}

function u8(t: Tensor): Uint8Array {
  const d = t.data as ArrayBufferView;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
function u16(t: Tensor): Uint16Array {
  const d = t.data as ArrayBufferView;
  return new Uint16Array(d.buffer, d.byteOffset, d.byteLength / 2);
}
function u32(t: Tensor): Uint32Array {
  const d = t.data as ArrayBufferView;
  return new Uint32Array(d.buffer, d.byteOffset, d.byteLength / 4);
}

/** Lower-case hex SHA-256 through Web Crypto (browsers in a secure context, Node ≥ 20). */
async function sha256Hex(bytes: Uint8Array, file: string): Promise<string> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (subtle === undefined) {
    throw new SparqError('E_IO', `${file}: cannot verify checksums: Web Crypto (crypto.subtle) is not available here`, {
      details: { file },
      hint: 'browsers offer crypto.subtle only in secure contexts (https:// or http://localhost)',
    });
  }
  // digest() wants a BufferSource it may read at once; a view over a larger buffer is fine.
  const d = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of d) hex += b.toString(16).padStart(2, '0');
  return hex;
}

function createContainer(
  folder: string,
  manifest: ContainerManifest,
  shards: Map<string, SafetensorsFile>,
  entries: Map<string, ContainerEntry>,
  closeAll: () => Promise<unknown>,
): SparqContainer {
  const entry = (name: string): ContainerEntry => {
    const e = entries.get(name);
    if (e === undefined) {
      throw new SparqError('E_NOT_FOUND', `weight "${name}" not found in container ${folder}${describeSuggestions(suggestNames(name, entries.keys()))}`, {
        details: { file: folder, tensor: name },
      });
    }
    return e;
  };

  const checkSum = async (tname: string, t: Tensor, file: string): Promise<void> => {
    const want = manifest.tensors[tname]!.sha256;
    const got = await sha256Hex(u8(t), file);
    if (got !== want) {
      throw new SparqError('E_CHECKSUM', `${file}: tensor "${tname}" fails its SHA-256 check (stored ${want.slice(0, 12)}…, computed ${got.slice(0, 12)}…)`, {
        details: { file, tensor: tname, expected: want, found: got },
        hint: 'the shard was modified or corrupted after export; re-export or re-download it',
      });
    }
  };

  const readComponents = async (e: ContainerEntry, verify: boolean): Promise<Map<string, Tensor>> => {
    const f = shards.get(e.shard)!;
    const out = new Map<string, Tensor>();
    for (const c of e.components) {
      const t = await f.read(c.name);
      if (verify) await checkSum(c.name, t, f.path);
      out.set(c.key, t);
    }
    return out;
  };

  const readPacked = async (name: string, options: ReadOptions = {}): Promise<PackedMatrix | BitmaskMatrix> => {
    const e = entry(name);
    if (e.kind === 'dense' || e.record === undefined) {
      throw new SparqError('E_ARG', `weight "${name}" in ${folder} is a plain tensor, not a packed weight`, { details: { file: folder, tensor: name }, hint: 'use readTensor' });
    }
    const r = e.record;
    const c = await readComponents(e, options.verify === true);
    const get = (k: string): Tensor => c.get(k)!;
    const [rows, cols] = r.shape;
    const bits = r.bits as 2 | 3 | 4 | 8;
    switch (r.kind) {
      case 'quant':
        return { kind: 'quant', rows, cols, bits, groupSize: r.group_size!, sym: r.sym!, codes: u8(get('codes')), scales: u16(get('scales')), ...(r.sym ? {} : { zeros: u8(get('zeros')) }) };
      case 'nm':
        return { kind: 'nm', rows, cols, n: r.n!, m: r.m!, values: get('values').toF32().data, indices: u8(get('indices')) };
      case 'nm-quant':
        return {
          kind: 'nm-quant', rows, cols, n: r.n!, m: r.m!, bits, groupSize: r.group_size!, sym: r.sym!,
          codes: u8(get('codes')), scales: u16(get('scales')), ...(r.sym ? {} : { zeros: u8(get('zeros')) }), indices: u8(get('indices')),
        };
      case 'spqr': {
        const stat = (p: 'scales' | 'zeros', s: { bits: number; group_rows: number }) => ({
          bits: s.bits as 2 | 3 | 4 | 8, groupRows: s.group_rows, codes: u8(get(`${p}.codes`)), scale: u16(get(`${p}.scale`)), zero: u16(get(`${p}.zero`)),
        });
        const colsT = get('outlier_cols');
        return {
          kind: 'spqr', rows, cols, bits, groupSize: r.group_size!,
          codes: u8(get('codes')), scales: stat('scales', r.scale_stat!), zeros: stat('zeros', r.zero_stat!),
          outliers: { rowPtr: u32(get('outlier_row_ptr')), cols: colsT.dtype === 'i32' ? u32(colsT) : u16(colsT), values: u16(get('outlier_values')) },
        };
      }
      case 'bitmask':
        return { kind: 'bitmask', rows, cols, mask: u8(get('mask')), values: get('values').toF32().data };
    }
  };

  const decode = (name: string, p: PackedMatrix | BitmaskMatrix): Tensor<'f32'> => {
    const f = shards.get(entry(name).shard)!.path;
    const what = `weight "${name}" in ${f}`;
    let data: Float32Array;
    switch (p.kind) {
      case 'quant': data = decodeQuantized(p, undefined, what); break;
      case 'nm': data = decompressNM(p, undefined, what); break;
      case 'nm-quant': data = decodeNMQuant(p, undefined, what); break;
      case 'spqr': data = decodeSpqr(p, undefined, what); break;
      case 'bitmask': data = decodeBitmask(p, undefined, what); break;
    }
    return new Tensor('f32', [p.rows, p.cols], data);
  };

  const readTensor = async (name: string, options: ReadOptions = {}): Promise<Tensor> => {
    const e = entry(name);
    if (e.kind === 'dense') {
      const f = shards.get(e.shard)!;
      const t = await f.read(name);
      if (options.verify) await checkSum(name, t, f.path);
      return t;
    }
    return decode(name, await readPacked(name, options));
  };

  return {
    folder,
    manifest,
    names: () => [...entries.keys()],
    has: (name) => entries.has(name),
    entry,
    readPacked,
    readTensor,
    readF32: async (name, options) => (await readTensor(name, options)).toF32(),
    verify: async (name) => {
      const list = name === undefined ? [...entries.values()] : [entry(name)];
      for (const e of list) await readComponents(e, true);
    },
    accounting: () =>
      accountModel(
        [...entries.values()].map((e): WeightAccounting =>
          e.kind === 'dense'
            ? accountDense(e.name, e.shape, e.dtype)
            : accountComponents(e.name, e.kind, e.shape[0]! * e.shape[1]!, e.components.map((c) => ({ role: c.role, bytes: c.shape.reduce((a, b) => a * b, 1) * dtypeBytes(c.dtype) }))),
        ),
      ),
    close: async () => {
      await closeAll();
    },
  };
}
