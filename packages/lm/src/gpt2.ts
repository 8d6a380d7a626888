/**
 * GPT-2 tensor names (`GPT2LMHeadModel.save_pretrained`: `transformer.…`).
 * GPT-2 stores `Conv1D` weights `[in, out]` and applies `x @ W + b`; they are
 * transposed at load to the `[out, in]` Linear layout. `c_attn` packs q, k, v
 * along the output axis and is split into three linears named
 * `transformer.h.<i>.attn.c_attn.q|k|v`.
 */
import { Tensor } from '@sparq/tensor';
import { readF32, readLmHead, readNorm, readTokenMatrix, readVec, type ArchSpec } from './architecture';
import type { LinearWeights } from './block';
import type { WeightSource } from './weight-source';

/** Transposes rows `[r0, r1)`… of a Conv1D `[in, out]` weight into `[outCols, in]`. */
function transposeCols(w: Float32Array, inp: number, out: number, c0: number, c1: number): Tensor<'f32'> {
  const n = c1 - c0;
  const t = new Float32Array(n * inp);
  for (let i = 0; i < inp; i++) for (let j = 0; j < n; j++) t[j * inp + i] = w[i * out + c0 + j]!;
  return new Tensor('f32', [n, inp], t);
}

async function readConv1d(src: WeightSource, base: string, inp: number, out: number): Promise<LinearWeights> {
  const w = await readF32(src, `${base}.weight`, [inp, out]);
  return { name: base, weight: transposeCols(w.data, inp, out, 0, out), bias: await readVec(src, `${base}.bias`, out) };
}

/** Loading rules of GPT-2. */
export const gpt2Spec: ArchSpec = {
  linearNames(_c, i) {
    const p = `transformer.h.${i}`;
    return [`${p}.attn.c_attn.q`, `${p}.attn.c_attn.k`, `${p}.attn.c_attn.v`, `${p}.attn.c_proj`, `${p}.mlp.c_fc`, `${p}.mlp.c_proj`];
  },
  async loadBlock(src, c, i) {
    const p = `transformer.h.${i}`;
    const D = c.hiddenSize;
    const F = c.intermediateSize;
    const cattn = (await readF32(src, `${p}.attn.c_attn.weight`, [D, 3 * D])).data;
    const cattnB = await readVec(src, `${p}.attn.c_attn.bias`, 3 * D);
    // q = output columns 0..D-1, k = D..2D-1, v = 2D..3D-1.
    const part = (j: number, tag: string): LinearWeights => ({
      name: `${p}.attn.c_attn.${tag}`,
      weight: transposeCols(cattn, D, 3 * D, j * D, (j + 1) * D),
      bias: cattnB.slice(j * D, (j + 1) * D),
    });
    return {
      norm1: await readNorm(src, `${p}.ln_1`, c),
      norm2: await readNorm(src, `${p}.ln_2`, c),
      q: part(0, 'q'),
      k: part(1, 'k'),
      v: part(2, 'v'),
      o: await readConv1d(src, `${p}.attn.c_proj`, D, D),
      gate: undefined,
      up: await readConv1d(src, `${p}.mlp.c_fc`, D, F),
      down: await readConv1d(src, `${p}.mlp.c_proj`, F, D),
    };
  },
  async loadGlobals(src, c) {
    const D = c.hiddenSize;
    const embed = await readTokenMatrix(src, 'transformer.wte.weight', [c.vocabSize, D]);
    const positions = await readF32(src, 'transformer.wpe.weight', [c.maxPositions, D]);
    return { embed, positions, finalNorm: await readNorm(src, 'transformer.ln_f', c), lmHead: await readLmHead(src, c, embed) };
  },
};
