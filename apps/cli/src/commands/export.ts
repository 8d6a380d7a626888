/**
 * `sparq export <model-or-container> --dense --out <dir> [--dtype source|f32]`:
 * writes a standard Hugging Face folder (config.json, tokenizer files,
 * model.safetensors under HF names) that any HF-style loader reads, from an HF
 * folder, a sparq container or a llama2.c checkpoint. Packed weights of a
 * container are decoded (docs/format.md §2–§6); plain tensors are copied, so
 * exporting an uncompressed model with `--dtype source` reproduces its tensors
 * bit for bit. The folder appears atomically (docs/format.md §13).
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { defineCommand } from 'citty';
import { isSparqContainer, openSafetensorsModel, openSparqContainer, writeSafetensorsStreaming } from '@sparq/format';
import { findTokenizerInFolder, llamaHfConfig, openLlama2cCheckpoint, resolveModelPath, type ModelConfig } from '@sparq/lm';
import { SparqError, Tensor, f32ArrayToBf16, f32ArrayToF16, type DType } from '@sparq/tensor';
import { outputArgs } from '../options';
import { type Io, printResult } from '../output';

const args = {
  model: { type: 'positional', description: 'HF model folder, sparq container (folder with sparq.json), llama2.c .bin, known name or Hub id', required: true },
  dense: { type: 'boolean', description: 'decode every weight to a dense tensor (the only export mode so far)' },
  out: { type: 'string', description: 'output folder (must not exist)', valueHint: 'dir', required: true },
  dtype: { type: 'string', description: 'tensor dtype: source (each weight as stored / its source dtype) or f32', default: 'source', valueHint: 'source|f32' },
  tokenizer: { type: 'string', description: 'tokenizer file to copy, overriding the one found beside the model', valueHint: 'path' },
  offline: { type: 'boolean', description: 'never use the network' },
  ...outputArgs,
} as const;

/** One tensor of the exported folder: its name, dtype, shape and how to produce it. */
interface Planned {
  name: string;
  dtype: DType;
  shape: readonly number[];
  read: () => Promise<Tensor>;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Casts an f32 tensor to `dtype` (round to nearest even for f16 / bf16). */
function castF32(t: Tensor<'f32'>, dtype: DType): Tensor {
  if (dtype === 'f32') return t;
  if (dtype === 'f16') return new Tensor('f16', t.shape, f32ArrayToF16(t.data));
  if (dtype === 'bf16') return new Tensor('bf16', t.shape, f32ArrayToBf16(t.data));
  throw new SparqError('E_DTYPE', `cannot export a decoded weight as ${dtype}`, { details: { expected: ['f32', 'f16', 'bf16'], found: dtype } });
}

/** Builds the command (the Io is injected for tests). */
export function exportCommand(io: Io) {
  return defineCommand({
    meta: { name: 'export', description: 'write a model or sparq container as a standard HF folder (dense safetensors)' },
    args,
    async run({ args: a }) {
      if (!a.dense) {
        throw new SparqError('E_ARG', 'sparq export needs --dense (decoded dense weights); other export targets are not available yet', {
          details: { expected: '--dense' },
          hint: 'sparq export <model> --dense --out <dir>',
        });
      }
      const dtypeMode = a.dtype ?? 'source';
      if (dtypeMode !== 'source' && dtypeMode !== 'f32') {
        throw new SparqError('E_ARG', `--dtype must be source or f32, found "${dtypeMode}"`, { details: { expected: ['source', 'f32'], found: dtypeMode } });
      }
      const { path } = await resolveModelPath(a.model, a.offline ? { offline: true } : {});
      const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
      if (!isDir && !path.endsWith('.bin')) {
        throw new SparqError('E_ARG', `${path}: export reads an HF folder, a sparq container or a llama2.c .bin checkpoint`, {
          details: { file: path },
        });
      }
      const target = resolve(a.out);
      if (await exists(target)) {
        throw new SparqError('E_ARG', `--out ${a.out} already exists`, { details: { file: a.out }, hint: 'choose a new output folder' });
      }

      // Plan the tensors and what config/tokenizer files to carry over.
      let planned: Planned[];
      let config: string | undefined;
      let close: () => Promise<unknown>;
      let packedCount = 0;
      if (!isDir) {
        // llama2.c: the source already exposes HF names (q/k permuted to rotate-half); the config is synthesised.
        const { source, config: mc } = await openLlama2cCheckpoint(path);
        close = () => source.close();
        config = JSON.stringify(llamaHfConfig(mc), null, 2);
        planned = source.names().map((name): Planned => {
          const info = source.info(name);
          const dtype = dtypeMode === 'f32' ? 'f32' : info.dtype;
          return { name, dtype, shape: info.shape, read: async () => (dtypeMode === 'f32' ? (await source.read(name)).toF32() : source.read(name)) };
        });
      } else if (await isSparqContainer(path)) {
        const c = await openSparqContainer(path);
        close = () => c.close();
        if (c.manifest.architecture !== null) config = JSON.stringify(c.manifest.architecture, null, 2);
        planned = c.names().map((name): Planned => {
          const e = c.entry(name);
          if (e.kind === 'dense') {
            const dtype = dtypeMode === 'f32' ? 'f32' : e.dtype;
            return { name, dtype, shape: e.shape, read: async () => (dtypeMode === 'f32' ? (await c.readTensor(name)).toF32() : c.readTensor(name)) };
          }
          packedCount++;
          const dtype: DType = dtypeMode === 'f32' ? 'f32' : (e.record?.source_dtype ?? 'f32');
          return { name, dtype, shape: e.shape, read: async () => castF32(await c.readF32(name), dtype) };
        });
      } else {
        const st = await openSafetensorsModel(path);
        close = () => st.close();
        planned = st.names().map((name): Planned => {
          const info = st.info(name);
          const dtype = dtypeMode === 'f32' ? 'f32' : info.dtype;
          return { name, dtype, shape: info.shape, read: async () => (dtypeMode === 'f32' ? (await st.read(name)).toF32() : st.read(name)) };
        });
      }
      const folder = isDir ? path : dirname(path);
      const configPath = join(path, 'config.json');
      if (isDir && config === undefined && (await exists(configPath))) config = await readFile(configPath, 'utf8');
      const tokenizerFiles = new Set<string>();
      const tok = a.tokenizer ?? findTokenizerInFolder(folder);
      if (tok !== undefined) {
        tokenizerFiles.add(tok);
        // GPT-2 style tokenizers come as a pair.
        if (basename(tok) === 'vocab.json' && (await exists(join(dirname(tok), 'merges.txt')))) tokenizerFiles.add(join(dirname(tok), 'merges.txt'));
      }
      for (const extra of isDir ? ['tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'] : []) {
        if (await exists(join(path, extra))) tokenizerFiles.add(join(path, extra));
      }

      const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
      try {
        await mkdir(tmp, { recursive: true });
        const byName = new Map(planned.map((p) => [p.name, p]));
        await writeSafetensorsStreaming(
          join(tmp, 'model.safetensors'),
          planned.map((p) => ({ name: p.name, dtype: p.dtype, shape: p.shape })),
          (name) => byName.get(name)!.read(),
          { format: 'pt' },
        );
        if (config !== undefined) await writeFile(join(tmp, 'config.json'), config.endsWith('\n') ? config : `${config}\n`);
        for (const f of tokenizerFiles) await copyFile(f, join(tmp, basename(f)));
        await rename(tmp, target);
      } catch (e) {
        await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        throw e;
      } finally {
        await close();
      }

      const result = {
        model: path,
        out: a.out,
        dtype: dtypeMode,
        tensors: planned.length,
        decoded: packedCount,
        files: ['model.safetensors', ...(config !== undefined ? ['config.json'] : []), ...[...tokenizerFiles].map((f) => basename(f))],
      };
      if (config === undefined) io.stderr(`note: ${path} has no config.json; the exported folder has none either\n`);
      printResult(io, Boolean(a.json), result, () =>
        [
          `exported ${planned.length} tensors (${packedCount} decoded from packed weights) to ${a.out}`,
          `files: ${result.files.join(', ')}`,
        ].join('\n'),
      );
    },
  });
}

/** The args table, for the CLI reference and the strict flag check. */
export const exportArgs = args;
