/**
 * A model folder as one lazy tensor store over one or many safetensors files,
 * following the Hugging Face layout: `model.safetensors.index.json` (sharded),
 * else `model.safetensors`, else every `*.safetensors` in the folder. All
 * headers are read and cross-checked up front so a broken index or shard fails
 * at open time; tensor data is read only by `read(name)`.
 */
import { readFile, readdir } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { SparqError, isSparqError, type Tensor } from '@sparq/tensor';
import { ioError } from './io-error';
import type { TensorInfo } from './safetensors-header';
import { openSafetensors, type SafetensorsFile } from './safetensors-read';
import { describeSuggestions, suggestNames } from './suggest-names';

/** Name of the Hugging Face shard index. */
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';
/** Name of the single-file checkpoint. */
export const SAFETENSORS_SINGLE_FILE = 'model.safetensors';

/** The tensors of a model folder, possibly spread over several files. */
export interface SafetensorsModel {
  /** The folder, as given. */
  readonly folder: string;
  /** Paths of the safetensors files in use, in the order they were opened. */
  readonly files: readonly string[];
  /** Tensor names: index order when sharded, else file order then header order. */
  names(): string[];
  /** True when some file holds tensor `name`. */
  has(name: string): boolean;
  /** Dtype, shape and location (`file`, `byteOffset`) of `name`; `E_NOT_FOUND` if absent. */
  info(name: string): TensorInfo;
  /** Reads tensor `name` from its file; `E_NOT_FOUND` if absent. */
  read(name: string): Promise<Tensor>;
  /** Closes every file. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Opens the safetensors checkpoint in `folder`. Throws `E_NOT_FOUND` when the
 * folder, a shard or every checkpoint file is missing, and `E_SAFETENSORS` for a
 * malformed index, a shard lacking a mapped tensor, or a tensor name found in two files.
 * @example
 * const model = await openSafetensorsModel('models/llama');
 * const emb = await model.read('model.embed_tokens.weight');
 * await model.close();
 */
export async function openSafetensorsModel(folder: string): Promise<SafetensorsModel> {
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch (e) {
    throw ioError(e, folder, 'list model folder');
  }
  if (entries.includes(SAFETENSORS_INDEX_FILE)) return openIndexed(folder);
  const candidates = entries.includes(SAFETENSORS_SINGLE_FILE)
    ? [SAFETENSORS_SINGLE_FILE]
    : entries.filter((f) => f.endsWith('.safetensors')).sort();
  if (candidates.length === 0) {
    throw new SparqError('E_NOT_FOUND', `${folder}: no ${SAFETENSORS_INDEX_FILE}, ${SAFETENSORS_SINGLE_FILE} or *.safetensors file`, {
      details: { file: folder },
      hint: 'point at the folder holding the checkpoint (config.json and the .safetensors files)',
    });
  }
  const files = await openAll(candidates.map((f) => join(folder, f)));
  const owner = new Map<string, SafetensorsFile>();
  for (const f of files) {
    for (const name of f.names()) {
      const prev = owner.get(name);
      if (prev !== undefined) {
        await closeAll(files);
        throw new SparqError('E_SAFETENSORS', `tensor "${name}" is stored in both ${prev.path} and ${f.path}`, {
          details: { file: f.path, tensor: name, found: [prev.path, f.path] },
          hint: `remove the stray file, or add a ${SAFETENSORS_INDEX_FILE} saying which file to use`,
        });
      }
      owner.set(name, f);
    }
  }
  return createModel(folder, files, owner);
}

/** Opens a sharded checkpoint through its index, checking every mapping. */
async function openIndexed(folder: string): Promise<SafetensorsModel> {
  const indexPath = join(folder, SAFETENSORS_INDEX_FILE);
  const weightMap = await readWeightMap(indexPath);

  // Group by shard so each shard header is read once; shards open in name order.
  const shardOf = new Map<string, string>();
  for (const [tensor, shard] of weightMap) {
    const rel = relative(resolve(folder), resolve(folder, shard));
    if (isAbsolute(shard) || rel.startsWith('..') || isAbsolute(rel)) {
      throw new SparqError('E_SAFETENSORS', `${indexPath}: tensor "${tensor}" maps to "${shard}", outside the model folder`, {
        details: { file: indexPath, tensor, found: shard },
      });
    }
    shardOf.set(tensor, shard);
  }
  const shardNames = [...new Set(shardOf.values())].sort();
  const files: SafetensorsFile[] = [];
  try {
    for (const shard of shardNames) {
      try {
        files.push(await openSafetensors(join(folder, shard)));
      } catch (e) {
        if (isSparqError(e) && e.code === 'E_NOT_FOUND') {
          const users = [...shardOf].filter(([, s]) => s === shard).map(([t]) => t);
          throw new SparqError('E_NOT_FOUND', `${indexPath}: shard "${shard}" (holding "${users[0]}" and ${users.length - 1} more) does not exist`, {
            details: { file: indexPath, tensor: users[0], expected: join(folder, shard) },
            hint: 'the download is incomplete; fetch the missing shard',
            cause: e,
          });
        }
        throw e;
      }
    }
    const byShard = new Map(shardNames.map((s, i) => [s, files[i]!]));
    const owner = new Map<string, SafetensorsFile>();
    for (const [tensor, shard] of shardOf) {
      const f = byShard.get(shard)!;
      if (!f.has(tensor)) {
        throw new SparqError(
          'E_SAFETENSORS',
          `${indexPath}: maps tensor "${tensor}" to shard "${shard}", which does not contain it${describeSuggestions(suggestNames(tensor, f.names()))}`,
          { details: { file: indexPath, tensor, expected: f.path }, hint: 'the index and the shards come from different exports' },
        );
      }
      owner.set(tensor, f);
    }
    return createModel(folder, files, owner);
  } catch (e) {
    await closeAll(files);
    throw e;
  }
}

/** Reads and checks the `weight_map` of an index file. */
async function readWeightMap(indexPath: string): Promise<[string, string][]> {
  let text: string;
  try {
    text = await readFile(indexPath, 'utf8');
  } catch (e) {
    throw ioError(e, indexPath, 'read shard index');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new SparqError('E_SAFETENSORS', `${indexPath}: not valid JSON (${(cause as Error).message})`, {
      details: { file: indexPath },
      cause,
    });
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new SparqError('E_SAFETENSORS', `${indexPath}: missing "weight_map" object`, {
      details: { file: indexPath, expected: '{ "weight_map": { tensor: shard } }' },
    });
  }
  const out = Object.entries(map);
  for (const [tensor, shard] of out) {
    if (typeof shard !== 'string') {
      throw new SparqError('E_SAFETENSORS', `${indexPath}: weight_map entry for "${tensor}" must be a shard file name`, {
        details: { file: indexPath, tensor, found: shard },
      });
    }
  }
  return out as [string, string][];
}

/** Opens files in order; on any failure closes those already open. */
async function openAll(paths: string[]): Promise<SafetensorsFile[]> {
  const files: SafetensorsFile[] = [];
  try {
    for (const p of paths) files.push(await openSafetensors(p));
    return files;
  } catch (e) {
    await closeAll(files);
    throw e;
  }
}

async function closeAll(files: SafetensorsFile[]): Promise<void> {
  await Promise.all(files.map((f) => f.close().catch(() => undefined)));
}

function createModel(folder: string, files: SafetensorsFile[], owner: Map<string, SafetensorsFile>): SafetensorsModel {
  const lookup = (name: string): SafetensorsFile => {
    const f = owner.get(name);
    if (f === undefined) {
      throw new SparqError(
        'E_NOT_FOUND',
        `tensor "${name}" not found in model ${folder}${describeSuggestions(suggestNames(name, owner.keys()))}`,
        { details: { file: folder, tensor: name } },
      );
    }
    return f;
  };
  return {
    folder,
    files: Object.freeze(files.map((f) => f.path)),
    names: () => [...owner.keys()],
    has: (name) => owner.has(name),
    info: (name) => lookup(name).info(name),
    read: (name) => {
      try {
        return lookup(name).read(name);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    close: () => closeAll(files),
  };
}
