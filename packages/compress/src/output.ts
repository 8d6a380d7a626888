/**
 * The output stage: turns the source model plus the stored compressed blocks
 * into a loadable model folder, streaming one tensor (one block's file) at a
 * time. Writers build the folder inside the resume folder and the driver
 * renames it into place, so a failure never leaves a half-written output.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeSafetensorsStreaming } from '@sparq/format';
import type { WeightSource } from '@sparq/lm';
import { SparqError, Tensor, type DType } from '@sparq/tensor';
import type { CompressedLinear } from './compressed-linear';
import { writeFileAtomic } from './work-dir';

/** Everything a writer needs. */
export interface OutputJob {
  /** Folder to create (must not exist). */
  dir: string;
  /** The `config.json` object. */
  config: Record<string, unknown>;
  /** Tokenizer files copied beside the weights (e.g. tok512.bin, or vocab.json + merges.txt). */
  tokenizerFiles: readonly string[];
  /** The source model's tensors (everything not compressed is copied from here). */
  source: WeightSource;
  /** Number of blocks stored. */
  blocks: number;
  /** Block index of each compressed linear's stored weight name (`<linear>.weight`). */
  compressed: ReadonlyMap<string, number>;
  /** Reads block `i`'s compressed linears. */
  readBlock(i: number): Promise<CompressedLinear[]>;
  /** Provenance written as `sparq-compress.json` (recipe, calibration, per-layer results). */
  report: unknown;
  /** Called after each tensor. */
  onProgress?(p: { done: number; total: number }): void;
}

/** An output format. */
export interface ModelWriter {
  /** `hf-folder` (decoded f32 weights, any HF loader) or `sparq-container` (packed). */
  readonly kind: 'hf-folder' | 'sparq-container';
  write(job: OutputJob): Promise<void>;
}

/** The block of a tensor name (`….layers.3.…` / `….h.3.…`), or −1 for global tensors. */
export function blockOf(name: string): number {
  const m = /(?:^|\.)(?:layers|h)\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : -1;
}

/** Copies `config.json`, the tokenizer files and the provenance report into `dir`. */
export async function writeSideFiles(job: OutputJob): Promise<void> {
  await mkdir(job.dir, { recursive: true });
  await writeFileAtomic(join(job.dir, 'config.json'), `${JSON.stringify(job.config, null, 2)}\n`);
  await writeFileAtomic(join(job.dir, 'sparq-compress.json'), `${JSON.stringify(job.report, null, 2)}\n`);
  for (const f of job.tokenizerFiles) {
    try {
      await copyFile(f, join(job.dir, basename(f)));
    } catch (e) {
      throw new SparqError('E_IO', `cannot copy tokenizer file ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { details: { file: f }, cause: e });
    }
  }
}

/**
 * A cache of the last block read: tensors are written grouped by block, so
 * each block file is read once and memory holds one block.
 */
export function blockCache(job: OutputJob): (weightName: string) => Promise<CompressedLinear> {
  let cached: { i: number; byName: Map<string, CompressedLinear> } | undefined;
  return async (weightName) => {
    const i = job.compressed.get(weightName)!;
    if (cached?.i !== i) {
      cached = undefined; // drop the previous block before reading the next
      const list = await job.readBlock(i);
      cached = { i, byName: new Map(list.map((c) => [`${c.name}.weight`, c])) };
    }
    const c = cached.byName.get(weightName);
    if (!c) throw new SparqError('E_INTERNAL', `compressed weight ${weightName} missing from stored block ${i}`);
    return c;
  };
}

/** Source tensor names ordered globals first, then block by block (stable inside a block). */
export function orderedNames(source: WeightSource): string[] {
  return source
    .names()
    .map((name, k) => ({ name, k, b: blockOf(name) }))
    .sort((x, y) => x.b - y.b || x.k - y.k)
    .map((x) => x.name);
}

/**
 * A standard Hugging Face folder: `config.json`, tokenizer files and one
 * `model.safetensors` where each compressed linear is its *decoded* f32
 * weight (exactly what the compressed model computes with) and every other
 * tensor is copied in its source dtype. Loadable by `sparq eval` and any HF
 * loader; it does not save bytes (the sparq container does).
 */
export const hfFolderWriter: ModelWriter = {
  kind: 'hf-folder',
  async write(job) {
    await writeSideFiles(job);
    const names = orderedNames(job.source);
    const get = blockCache(job);
    const entries = names.map((name) => {
      const info = job.source.info(name);
      const dtype: DType = job.compressed.has(name) ? 'f32' : info.dtype;
      return { name, dtype, shape: info.shape };
    });
    let done = 0;
    await writeSafetensorsStreaming(
      join(job.dir, 'model.safetensors'),
      entries,
      async (name) => {
        const t = job.compressed.has(name) ? await get(name).then((c) => new Tensor('f32', [c.rows, c.cols], c.weight)) : await job.source.read(name);
        job.onProgress?.({ done: ++done, total: entries.length });
        return t;
      },
      { format: 'pt' },
    );
  },
};
