/**
 * llama2.c legacy (v0) checkpoints (`run.c`'s `.bin`): a 7×int32 header
 * `dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len`
 * (negative vocab_size ⇒ separate classifier), then float32 LE tensors in the
 * order token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3,
 * rms_final, freq_cis_real, freq_cis_imag, [wcls].
 *
 * Exposed as a lazy {@link WeightSource} under Hugging Face LLaMA names, with
 * q/k rows permuted to HF's rotate-half RoPE layout (the inverse of what
 * `convert_llama_weights_to_hf.py`'s `permute` undoes), so one forward path
 * serves both formats.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { SparqError, Tensor } from '@sparq/tensor';
import type { ModelConfig } from './config';
import type { WeightInfo, WeightSource } from './weight-source';

/** The 7-field llama2.c header. */
export interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** Absolute vocabulary size. */
  vocabSize: number;
  /** False when the header's vocab_size was negative (a separate `wcls`). */
  sharedClassifier: boolean;
  seqLen: number;
}

const HEADER_BYTES = 28;

/** Parses the 28-byte header; `E_CHECKPOINT` when it is not a plausible llama2.c header. */
export function parseLlama2cHeader(bytes: Uint8Array, file: string): Llama2cHeader {
  if (bytes.length < HEADER_BYTES) {
    throw new SparqError('E_CHECKPOINT', `${file}: too short for a llama2.c header (expected ≥ ${HEADER_BYTES} bytes, found ${bytes.length})`, {
      details: { file, expected: HEADER_BYTES, found: bytes.length },
    });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const f = Array.from({ length: 7 }, (_, i) => dv.getInt32(i * 4, true));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen] = f as [number, number, number, number, number, number, number];
  const ok = dim > 0 && hiddenDim > 0 && nLayers > 0 && nHeads > 0 && nKvHeads > 0 && vocab !== 0 && seqLen > 0 && dim % nHeads === 0 && nHeads % nKvHeads === 0;
  if (!ok) {
    throw new SparqError('E_CHECKPOINT', `${file}: implausible llama2.c header [${f.join(', ')}] (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len)`, {
      details: { file, found: f },
      hint: 'only legacy (v0) llama2.c checkpoints are supported',
    });
  }
  return { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: Math.abs(vocab), sharedClassifier: vocab > 0, seqLen };
}

/** The normalised LLaMA config of a llama2.c header (θ = 10000, ε = 1e-5, BOS 1, EOS 2, as run.c). */
export function llama2cConfig(h: Llama2cHeader): ModelConfig {
  return {
    architecture: 'llama',
    hiddenSize: h.dim,
    intermediateSize: h.hiddenDim,
    numLayers: h.nLayers,
    numHeads: h.nHeads,
    numKvHeads: h.nKvHeads,
    headDim: h.dim / h.nHeads,
    vocabSize: h.vocabSize,
    maxPositions: h.seqLen,
    normEps: 1e-5,
    norm: 'rms',
    ropeTheta: 10000,
    ropeScaling: undefined,
    slidingWindow: undefined,
    tieWordEmbeddings: h.sharedClassifier,
    qkvBias: false,
    outBias: false,
    mlpBias: false,
    gatedMlp: true,
    activation: 'silu',
    positionOffset: 0,
    bosId: 1,
    eosIds: [2],
    sourceDtype: 'float32',
  };
}

interface Entry {
  shape: number[];
  /** Byte offset in the file. */
  offset: number;
  /** Heads to permute (q: n_heads, k: n_kv_heads), or 0. */
  permuteHeads: number;
}

/** Tensor layout of a checkpoint: HF name → shape and byte offset, plus the expected file size. */
export function llama2cLayout(h: Llama2cHeader): { entries: Map<string, Entry>; expectedBytes: number } {
  const { dim: D, hiddenDim: H, nLayers: L, vocabSize: V, seqLen: S } = h;
  const hd = D / h.nHeads;
  const kvDim = h.nKvHeads * hd;
  const entries = new Map<string, Entry>();
  let off = HEADER_BYTES;
  // Each llama2.c array stacks all layers: [L, rows, cols]; layer i starts at i·rows·cols.
  const stacked = (suffix: string, rows: number, cols: number, permuteHeads = 0): void => {
    for (let i = 0; i < L; i++) {
      const shape = cols === 0 ? [rows] : [rows, cols];
      entries.set(`model.layers.${i}.${suffix}`, { shape, offset: off + i * rows * Math.max(cols, 1) * 4, permuteHeads });
    }
    off += L * rows * Math.max(cols, 1) * 4;
  };
  entries.set('model.embed_tokens.weight', { shape: [V, D], offset: off, permuteHeads: 0 });
  off += V * D * 4;
  stacked('input_layernorm.weight', D, 0);
  stacked('self_attn.q_proj.weight', D, D, h.nHeads);
  stacked('self_attn.k_proj.weight', kvDim, D, h.nKvHeads);
  stacked('self_attn.v_proj.weight', kvDim, D);
  stacked('self_attn.o_proj.weight', D, D);
  stacked('post_attention_layernorm.weight', D, 0);
  stacked('mlp.gate_proj.weight', H, D); // w1
  stacked('mlp.down_proj.weight', D, H); // w2
  stacked('mlp.up_proj.weight', H, D); // w3
  entries.set('model.norm.weight', { shape: [D], offset: off, permuteHeads: 0 });
  off += D * 4;
  off += 2 * S * (hd / 2) * 4; // freq_cis_real, freq_cis_imag: legacy RoPE tables, recomputed instead
  if (!h.sharedClassifier) {
    entries.set('lm_head.weight', { shape: [V, D], offset: off, permuteHeads: 0 });
    off += V * D * 4;
  }
  return { entries, expectedBytes: off };
}

/**
 * Reorders q/k rows from llama2.c's interleaved RoPE pairs (2i, 2i+1) to HF's
 * rotate-half layout (i, i + hd/2), per head — HF's
 * `w.view(n_heads, hd/2, 2, dim).transpose(1, 2).reshape(rows, dim)`.
 */
export function permuteRotateHalf(w: Float32Array, nHeads: number, rows: number, cols: number): Float32Array {
  const hd = rows / nHeads;
  const half = hd / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++)
    for (let j = 0; j < 2; j++)
      for (let i = 0; i < half; i++) {
        const src = (h * hd + 2 * i + j) * cols;
        const dst = (h * hd + j * half + i) * cols;
        out.set(w.subarray(src, src + cols), dst);
      }
  return out;
}

/**
 * Opens a llama2.c `.bin` checkpoint as a lazy weight source (HF LLaMA names,
 * q/k permuted to rotate-half). Validates the file size against the header:
 * `E_CHECKPOINT` with expected vs found bytes.
 * @example
 * const { source, config } = await openLlama2cCheckpoint('stories260K.bin');
 * const wq = await source.read('model.layers.0.self_attn.q_proj.weight');
 */
export async function openLlama2cCheckpoint(file: string): Promise<{ source: WeightSource; config: ModelConfig; header: Llama2cHeader }> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw new SparqError('E_NOT_FOUND', `cannot open llama2.c checkpoint "${file}"`, { details: { file }, cause: e });
  }
  try {
    const head = new Uint8Array(HEADER_BYTES);
    const { bytesRead } = await fh.read(head, 0, HEADER_BYTES, 0);
    const header = parseLlama2cHeader(head.subarray(0, bytesRead), file);
    const { entries, expectedBytes } = llama2cLayout(header);
    const size = (await stat(file)).size;
    if (size !== expectedBytes) {
      throw new SparqError('E_CHECKPOINT', `${file}: header implies ${expectedBytes} bytes, file has ${size}`, {
        details: { file, expected: expectedBytes, found: size },
        hint: size > expectedBytes ? 'this may be a newer (v1+) llama2.c export; only legacy v0 is supported' : 'the file looks truncated',
      });
    }
    const get = (name: string): Entry => {
      const e = entries.get(name);
      if (!e) throw new SparqError('E_NOT_FOUND', `tensor "${name}" is not in llama2.c checkpoint ${file}`, { details: { file, tensor: name } });
      return e;
    };
    const source: WeightSource = {
      kind: 'llama2c',
      path: file,
      names: () => [...entries.keys()],
      has: (name) => entries.has(name),
      info: (name): WeightInfo => ({ name, dtype: 'f32', shape: get(name).shape }),
      async read(name) {
        const e = get(name);
        const n = e.shape.reduce((a, b) => a * b, 1);
        const buf = new Uint8Array(n * 4);
        await fh.read(buf, 0, buf.length, e.offset);
        let data: Float32Array = new Float32Array(buf.buffer); // host is little-endian, as the file
        if (e.permuteHeads) data = permuteRotateHalf(data, e.permuteHeads, e.shape[0]!, e.shape[1]!);
        return new Tensor('f32', e.shape, data);
      },
      close: () => fh.close(),
    };
    return { source, config: llama2cConfig(header), header };
  } catch (e) {
    await fh.close();
    throw e;
  }
}
