/**
 * Streaming, atomic writer of a sparq container (docs/format.md §10): add one
 * logical weight at a time (packed or plain), shards roll over at a size
 * limit, and nothing appears at the target until `finish()` renames the
 * completed temp folder into place. On any error, or `abort()`, the temp folder
 * is removed.
 *
 * Each shard's tensors are appended to a scratch data file as they arrive
 * (memory stays at one weight); when the shard closes its safetensors file is
 * written from that scratch file, header first.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import {
  SparqError,
  Tensor,
  f32ArrayToBf16,
  f32ArrayToF16,
  storageFromBuffer,
  type DType,
  type PackedMatrix,
} from '@sparq/tensor';
import { decodeBitmask, type BitmaskMatrix } from './bitmask';
import {
  SHARD_VERSION_KEY,
  SPARQ_FORMAT_VERSION,
  SPARQ_MANIFEST_FILE,
  WEIGHT_META_PREFIX,
  componentSpecs,
  type ContainerManifest,
  type ManifestWeight,
  type TensorRecord,
  type ValueDType,
  type WeightRecord,
} from './container-manifest';
import { ioError } from './io-error';
import { validateNMMatrix } from './nm';
import { validateNMQuant } from './nm-quant';
import { validateQuantized } from './quant-codec';
import { SAFETENSORS_INDEX_FILE, SAFETENSORS_SINGLE_FILE } from './safetensors-model';
import { writeSafetensorsStreaming } from './safetensors-write';
import { validateSpqr } from './spqr';

/** Default shard size limit: 2 GiB. */
export const DEFAULT_MAX_SHARD_BYTES = 2 * 1024 ** 3;

/** Options of {@link createContainerWriter}. */
export interface ContainerWriterOptions {
  /** HF `config.json` content; written as `config.json` and into the manifest. */
  architecture?: Record<string, unknown> | null;
  /** Tokenizer files to copy beside the manifest (paths). */
  tokenizerFiles?: readonly string[];
  /** The recipe that produced the container (any JSON value). */
  recipe?: unknown;
  /** Tool version recorded in the manifest. */
  toolVersion?: string;
  /** Roll to a new shard when the next weight would push a shard past this many data bytes. */
  maxShardBytes?: number;
  /** Replace an existing target folder at `finish()` (default: refuse). */
  overwrite?: boolean;
}

/** Per-weight options of {@link ContainerWriter.addPacked}. */
export interface AddPackedOptions {
  /** Algorithm that produced it (recorded as `method`). */
  method?: string;
  /** Source tensor name (recorded as `source`; default: the weight's name). */
  source?: string;
  /** Dtype of the source tensor (recorded as `source_dtype`; used by dense export). */
  sourceDtype?: ValueDType;
  /**
   * Dtype to store `nm` / `bitmask` float values in (default `f32`). The values
   * must be exactly representable (prune an f16 model → store f16), else `E_ARG`.
   */
  valueDtype?: ValueDType;
}

/** What {@link ContainerWriter.finish} returns. */
export interface ContainerWriteResult {
  folder: string;
  shards: string[];
  manifest: ContainerManifest;
}

/** A container being written. */
export interface ContainerWriter {
  /** Target folder (created at `finish()`). */
  readonly folder: string;
  /** Adds a packed logical weight. */
  addPacked(name: string, weight: PackedMatrix | BitmaskMatrix, options?: AddPackedOptions): Promise<void>;
  /** Adds a plain tensor (norms, embeddings, biases, uncompressed layers), stored as is. */
  addTensor(name: string, tensor: Tensor): Promise<void>;
  /** Closes the last shard, writes the manifest and moves the folder into place. */
  finish(): Promise<ContainerWriteResult>;
  /** Discards everything written so far. Safe to call twice. */
  abort(): Promise<void>;
}

interface PendingTensor {
  name: string;
  dtype: DType;
  shape: readonly number[];
  offset: number;
  bytes: number;
}

interface OpenShard {
  dataPath: string;
  fh: FileHandle;
  tensors: PendingTensor[];
  bytes: number;
  metadata: Record<string, string>;
}

function bytesOf(t: Tensor): Uint8Array {
  const d = t.data as ArrayBufferView;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** A Tensor over the raw bytes of `u16`/`u32` data, stored under I16/I32 (same bit patterns). */
function view(dtype: DType, shape: readonly number[], data: ArrayBufferView): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(dtype, shape, storageFromBuffer(dtype, data.buffer, data.byteOffset, n));
}

/** Narrows f32 values to `dtype`, refusing any value that would change. */
function storeValues(values: Float32Array, dtype: ValueDType, shape: readonly number[], what: string): Tensor {
  if (dtype === 'f32') return view('f32', shape, values);
  const narrowed = dtype === 'f16' ? f32ArrayToF16(values) : f32ArrayToBf16(values);
  const back = new Tensor(dtype, shape, narrowed).toF32().data;
  for (let i = 0; i < values.length; i++) {
    if (!Object.is(back[i], values[i]) && !(Number.isNaN(back[i]) && Number.isNaN(values[i]))) {
      throw new SparqError('E_ARG', `${what}: value ${values[i]} at index ${i} is not exactly representable as ${dtype}`, {
        details: { tensor: what, expected: `${dtype}-representable values`, found: values[i] },
        hint: `store values as f32, or round them to ${dtype} before compressing`,
      });
    }
  }
  return new Tensor(dtype, shape, narrowed);
}

/** Builds the weight record and component tensors of a packed weight (validated first). */
export function packedToComponents(
  name: string,
  w: PackedMatrix | BitmaskMatrix,
  options: AddPackedOptions = {},
): { record: WeightRecord; tensors: { key: string; name: string; tensor: Tensor }[] } {
  const base = {
    format_version: SPARQ_FORMAT_VERSION,
    shape: [w.rows, w.cols] as [number, number],
    ...(options.method !== undefined ? { method: options.method } : {}),
    source: options.source ?? name,
    ...(options.sourceDtype !== undefined ? { source_dtype: options.sourceDtype } : {}),
  };
  const valueDtype = options.valueDtype ?? 'f32';
  let record: Omit<WeightRecord, 'components'>;
  let data: Record<string, ArrayBufferView>;
  switch (w.kind) {
    case 'quant':
      validateQuantized(w, name);
      record = { ...base, kind: 'quant', bits: w.bits, group_size: w.groupSize, sym: w.sym, scale_dtype: 'f16' };
      data = { codes: w.codes, scales: w.scales, ...(w.zeros ? { zeros: w.zeros } : {}) };
      break;
    case 'nm':
      validateNMMatrix(w, name);
      record = { ...base, kind: 'nm', n: w.n, m: w.m, value_dtype: valueDtype };
      data = { values: w.values, indices: w.indices };
      break;
    case 'nm-quant':
      validateNMQuant(w, name);
      record = { ...base, kind: 'nm-quant', n: w.n, m: w.m, bits: w.bits, group_size: w.groupSize, sym: w.sym, scale_dtype: 'f16' };
      data = { codes: w.codes, indices: w.indices, scales: w.scales, ...(w.zeros ? { zeros: w.zeros } : {}) };
      break;
    case 'spqr':
      validateSpqr(w, name);
      record = {
        ...base, kind: 'spqr', bits: w.bits, group_size: w.groupSize, scale_dtype: 'f16',
        scale_stat: { bits: w.scales.bits, group_rows: w.scales.groupRows },
        zero_stat: { bits: w.zeros.bits, group_rows: w.zeros.groupRows },
        outliers: w.outliers.values.length,
      };
      data = {
        codes: w.codes,
        'scales.codes': w.scales.codes, 'scales.scale': w.scales.scale, 'scales.zero': w.scales.zero,
        'zeros.codes': w.zeros.codes, 'zeros.scale': w.zeros.scale, 'zeros.zero': w.zeros.zero,
        outlier_row_ptr: w.outliers.rowPtr, outlier_cols: w.outliers.cols, outlier_values: w.outliers.values,
      };
      break;
    case 'bitmask':
      decodeBitmask(w, undefined, name); // validates mask and value count
      record = { ...base, kind: 'bitmask', value_dtype: valueDtype, nnz: w.values.length };
      data = { mask: w.mask, values: w.values };
      break;
    default:
      throw new SparqError('E_ARG', `weight "${name}": unknown packed kind ${JSON.stringify((w as { kind?: unknown }).kind)}`, {
        details: { tensor: name, expected: ['quant', 'nm', 'nm-quant', 'spqr', 'bitmask'], found: (w as { kind?: unknown }).kind },
      });
  }
  const components: Record<string, string> = {};
  const full = { ...record, components } as WeightRecord;
  const tensors = componentSpecs(full, '<writer>', name).map((spec) => {
    const tname = `${name}.${spec.key}`;
    components[spec.key] = tname;
    const src = data[spec.key]!;
    const isFloatValues = spec.key === 'values' && (w.kind === 'nm' || w.kind === 'bitmask');
    const tensor = isFloatValues ? storeValues(src as Float32Array, valueDtype, spec.shape, tname) : view(spec.dtype, spec.shape, src);
    return { key: spec.key, name: tname, tensor };
  });
  return { record: full, tensors };
}

/**
 * Starts writing a container into `folder` (which must not exist unless
 * `overwrite`). Work happens in a sibling temp folder.
 * @example
 * const w = await createContainerWriter('out/model.sparq', { architecture: config });
 * await w.addTensor('model.norm.weight', norm);
 * await w.addPacked('model.layers.0.mlp.up_proj.weight', encodeQuantized(parts));
 * await w.finish();
 */
export async function createContainerWriter(folder: string, options: ContainerWriterOptions = {}): Promise<ContainerWriter> {
  const target = resolve(folder);
  const maxShardBytes = options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!(maxShardBytes > 0)) {
    throw new SparqError('E_ARG', `maxShardBytes must be positive, found ${maxShardBytes}`, { details: { found: maxShardBytes } });
  }
  if (!options.overwrite && (await exists(target))) {
    throw new SparqError('E_ARG', `${folder} already exists`, { details: { file: folder }, hint: 'choose a new output folder or pass overwrite' });
  }
  for (const f of options.tokenizerFiles ?? []) {
    if (!(await exists(f))) throw new SparqError('E_NOT_FOUND', `tokenizer file ${f} does not exist`, { details: { file: f } });
  }
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(tmp, { recursive: true });
  } catch (e) {
    throw ioError(e, tmp, 'create the temporary container folder');
  }

  const shardFiles: string[] = [];
  const weights: Record<string, ManifestWeight & { shardIndex: number }> = {};
  const tensors = new Map<string, { shardIndex: number; sha256: string }>();
  let shard: OpenShard | undefined;
  let state: 'open' | 'done' | 'aborted' = 'open';

  const abort = async (): Promise<void> => {
    if (state === 'aborted') return;
    const wasOpen = state === 'open';
    state = 'aborted';
    if (shard) await shard.fh.close().catch(() => undefined);
    shard = undefined;
    if (wasOpen) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  };

  /** Runs `f`; on failure discards the whole container so nothing half-written remains. */
  const guarded = async <T>(f: () => Promise<T>): Promise<T> => {
    if (state !== 'open') {
      throw new SparqError('E_ARG', `container writer for ${folder} is ${state === 'done' ? 'already finished' : 'aborted'}`, { details: { file: folder } });
    }
    try {
      return await f();
    } catch (e) {
      await abort();
      throw e;
    }
  };

  const closeShard = async (): Promise<void> => {
    if (!shard) return;
    const s = shard;
    shard = undefined;
    const index = shardFiles.length;
    const path = join(tmp, `shard-${index}.safetensors`);
    try {
      await writeSafetensorsStreaming(
        path,
        s.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
        async (name) => {
          const t = s.tensors.find((x) => x.name === name)!;
          // Fresh buffer per tensor: aligned for any dtype, and only one tensor in memory.
          const buf = new Uint8Array(t.bytes);
          let done = 0;
          while (done < t.bytes) {
            const { bytesRead } = await s.fh.read(buf, done, t.bytes - done, t.offset + done);
            if (bytesRead === 0) throw new SparqError('E_IO', `${s.dataPath}: scratch data ended early`, { details: { file: s.dataPath } });
            done += bytesRead;
          }
          const n = t.shape.reduce((a, b) => a * b, 1);
          return new Tensor(t.dtype, t.shape, storageFromBuffer(t.dtype, buf.buffer, 0, n));
        },
        s.metadata,
      );
    } finally {
      await s.fh.close().catch(() => undefined);
    }
    await unlink(s.dataPath).catch(() => undefined);
    shardFiles.push(path);
  };

  const openShard = async (): Promise<OpenShard> => {
    const dataPath = join(tmp, `shard-${shardFiles.length}.data`);
    let fh: FileHandle;
    try {
      fh = await open(dataPath, 'w+');
    } catch (e) {
      throw ioError(e, dataPath, 'create scratch shard data');
    }
    shard = { dataPath, fh, tensors: [], bytes: 0, metadata: { format: 'pt', [SHARD_VERSION_KEY]: String(SPARQ_FORMAT_VERSION) } };
    return shard;
  };

  const append = async (entries: { name: string; tensor: Tensor }[], metadata: Record<string, string>, logical: string, kind: ManifestWeight['kind']): Promise<void> => {
    if (weights[logical] !== undefined) {
      throw new SparqError('E_ARG', `weight "${logical}" was already added to ${folder}`, { details: { tensor: logical } });
    }
    for (const e of entries) {
      if (tensors.has(e.name)) throw new SparqError('E_ARG', `stored tensor name "${e.name}" is used twice in ${folder}`, { details: { tensor: e.name } });
    }
    const total = entries.reduce((s, e) => s + bytesOf(e.tensor).byteLength, 0);
    if (shard && shard.tensors.length > 0 && shard.bytes + total > maxShardBytes) await closeShard();
    const s = shard ?? (await openShard());
    for (const e of entries) {
      const bytes = bytesOf(e.tensor);
      try {
        let done = 0;
        while (done < bytes.byteLength) {
          const { bytesWritten } = await s.fh.write(bytes, done, Math.min(bytes.byteLength - done, 1 << 28), s.bytes + done);
          done += bytesWritten;
        }
      } catch (err) {
        throw ioError(err, s.dataPath, `write tensor "${e.name}"`);
      }
      s.tensors.push({ name: e.name, dtype: e.tensor.dtype, shape: e.tensor.shape, offset: s.bytes, bytes: bytes.byteLength });
      s.bytes += bytes.byteLength;
      tensors.set(e.name, { shardIndex: shardFiles.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    Object.assign(s.metadata, metadata);
    weights[logical] = { kind, shard: '', shardIndex: shardFiles.length };
  };

  return {
    folder,
    addPacked: (name, w, opts) =>
      guarded(async () => {
        const { record, tensors: comps } = packedToComponents(name, w, opts);
        await append(comps, { [`${WEIGHT_META_PREFIX}${name}`]: JSON.stringify(record) }, name, record.kind);
      }),
    addTensor: (name, t) =>
      guarded(async () => {
        if (!(t instanceof Tensor)) throw new SparqError('E_ARG', `value for "${name}" is not a Tensor`, { details: { tensor: name } });
        await append([{ name, tensor: t }], {}, name, 'dense');
      }),
    abort,
    finish: () =>
      guarded(async () => {
        // An empty container still gets one (empty) shard so loaders find a checkpoint.
        if (!shard && shardFiles.length === 0) await openShard();
        await closeShard();
        const n = shardFiles.length;
        const finalNames = n === 1 ? [SAFETENSORS_SINGLE_FILE] : shardFiles.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`);
        for (let i = 0; i < n; i++) await renameIo(shardFiles[i]!, join(tmp, finalNames[i]!));
        const tensorRecords: Record<string, TensorRecord> = {};
        for (const [name, t] of tensors) tensorRecords[name] = { shard: finalNames[t.shardIndex]!, sha256: t.sha256 };
        const weightRecords: Record<string, ManifestWeight> = {};
        for (const [name, w] of Object.entries(weights)) weightRecords[name] = { kind: w.kind, shard: finalNames[w.shardIndex]! };
        if (n > 1) {
          const weightMap: Record<string, string> = {};
          for (const [name, t] of Object.entries(tensorRecords)) weightMap[name] = t.shard;
          await writeText(join(tmp, SAFETENSORS_INDEX_FILE), JSON.stringify({ metadata: { format: 'sparq' }, weight_map: weightMap }, null, 2));
        }
        const tokenizerNames: string[] = [];
        for (const f of options.tokenizerFiles ?? []) {
          const b = basename(f);
          try {
            await copyFile(f, join(tmp, b));
          } catch (e) {
            throw ioError(e, f, 'copy tokenizer file');
          }
          tokenizerNames.push(b);
        }
        const architecture = options.architecture ?? null;
        if (architecture !== null) await writeText(join(tmp, 'config.json'), JSON.stringify(architecture, null, 2));
        const manifest: ContainerManifest = {
          format: 'sparq',
          format_version: SPARQ_FORMAT_VERSION,
          tool: { name: 'sparq', version: options.toolVersion ?? 'unknown' },
          architecture,
          tokenizer_files: tokenizerNames,
          recipe: options.recipe ?? null,
          weights: weightRecords,
          tensors: tensorRecords,
        };
        await writeText(join(tmp, SPARQ_MANIFEST_FILE), JSON.stringify(manifest, null, 2));
        await moveIntoPlace(tmp, target, options.overwrite === true);
        state = 'done';
        return { folder, shards: finalNames, manifest };
      }),
  };
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function renameIo(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    throw ioError(e, to, 'rename');
  }
}

async function writeText(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text + '\n');
  } catch (e) {
    throw ioError(e, path, 'write');
  }
}

/** Renames the finished temp folder onto `target`, swapping out an old one when allowed. */
async function moveIntoPlace(tmp: string, target: string, overwrite: boolean): Promise<void> {
  if (await exists(target)) {
    if (!overwrite) {
      throw new SparqError('E_ARG', `${target} appeared while the container was being written`, { details: { file: target } });
    }
    const old = `${tmp}.old`;
    await renameIo(target, old);
    try {
      await renameIo(tmp, target);
    } catch (e) {
      await rename(old, target).catch(() => undefined);
      throw e;
    }
    await rm(old, { recursive: true, force: true }).catch(() => undefined);
    return;
  }
  await renameIo(tmp, target);
}
