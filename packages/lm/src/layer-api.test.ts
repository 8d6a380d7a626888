import { createReferenceBackend, Tensor, type Backend } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from './load';
import { CausalLM } from './model';
import { openHfWeights, readHfConfig } from './hf-source';

/** The reference backend, recording every released tensor. */
function spyBackend(): Backend & { released: unknown[] } {
  const inner = createReferenceBackend();
  const released: unknown[] = [];
  return { ...inner, released, release: (t) => void released.push(t), run: inner.run.bind(inner) } as Backend & { released: unknown[] };
}
const backend = spyBackend();
afterAll(() => backend.dispose());

const tok = sharedPath('models', 'stories260K', 'tok512.bin');
const IDS = [1, 410, 469, 347, 286, 261, 376];

async function stories(): Promise<CausalLM> {
  return (await loadModel(sharedPath('models', 'stories260K', 'hf'), { backend, tokenizer: tok, lazy: true })).model;
}

async function walk(model: CausalLM, ids: number[] | number[][], skip?: number): Promise<Tensor<'f32'>> {
  let h = await model.embed(ids);
  for (let i = 0; i < model.numBlocks; i++) {
    if (i === skip) continue;
    h = await model.runBlock(i, h);
    model.unloadBlock(i);
  }
  return model.head(h);
}

describe('layer-by-layer API', () => {
  it('walking block by block (unloading each) gives exactly the logits of forward', async () => {
    const model = await stories();
    const full = await model.forward(IDS);
    const walked = await walk(model, IDS);
    expect(walked.shape).toEqual([1, IDS.length, 512]);
    expect(Array.from(walked.data)).toEqual(Array.from(full.data));
    for (let i = 0; i < model.numBlocks; i++) expect(model.isBlockLoaded(i)).toBe(false);
    await model.dispose();
  });

  it('runs a batch of equal-length sequences, each independently', async () => {
    const model = await stories();
    const a = IDS;
    const b = [1, 300, 301, 302, 303, 304, 305];
    const both = await walk(model, [a, b]);
    const one = await walk(model, [b]);
    const n = IDS.length * 512;
    expect(Array.from(both.data.subarray(n))).toEqual(Array.from(one.data));
    await model.dispose();
  });

  it('reports each linear input by HF name; q/k/v and gate/up share one tensor', async () => {
    const model = await stories();
    const seen: [string, Tensor<'f32'>][] = [];
    const h = await model.embed([IDS, IDS]);
    await model.runBlock(3, h, { onLinearInput: (name, x) => void seen.push([name, x]) });
    const names = seen.map(([n]) => n);
    expect(names).toEqual(model.blockLinearNames(3));
    expect(names[0]).toBe('model.layers.3.self_attn.q_proj');
    const by = new Map(seen);
    expect(by.get('model.layers.3.self_attn.k_proj')).toBe(by.get('model.layers.3.self_attn.q_proj'));
    expect(by.get('model.layers.3.self_attn.v_proj')).toBe(by.get('model.layers.3.self_attn.q_proj'));
    expect(by.get('model.layers.3.mlp.up_proj')).toBe(by.get('model.layers.3.mlp.gate_proj'));
    expect(by.get('model.layers.3.self_attn.q_proj')!.shape).toEqual([2 * IDS.length, 64]);
    expect(by.get('model.layers.3.mlp.down_proj')!.shape).toEqual([2 * IDS.length, 172]);
    expect(model.linearNames()).toHaveLength(5 * 7);
    await model.dispose();
  });

  it('zeroing o_proj and down_proj of block 0 equals skipping block 0 (a residual identity)', async () => {
    const model = await stories();
    const skipped = await walk(model, IDS, 0);
    const before = await model.forward(IDS);
    for (const name of ['model.layers.0.self_attn.o_proj', 'model.layers.0.mlp.down_proj']) {
      const old = await model.getLinearWeight(name);
      backend.released.length = 0;
      await model.setLinearWeight(name, Tensor.zeros('f32', old.shape));
      expect(backend.released).toEqual([old]); // the old backend copy is dropped
    }
    const after = await model.forward(IDS);
    expect(Array.from(after.data.subarray(0, 512 * IDS.length))).toEqual(Array.from(skipped.data));
    expect(after.data).not.toEqual(before.data);
    // Replacements survive unloading; discardOverrides reverts to the source.
    model.unloadBlock(0);
    expect(Array.from((await model.forward(IDS)).data)).toEqual(Array.from(after.data));
    model.unloadBlock(0, { discardOverrides: true });
    expect(Array.from((await model.forward(IDS)).data)).toEqual(Array.from(before.data));
    await model.dispose();
  });

  it('rejects a replacement of the wrong shape and an unknown name', async () => {
    const model = await stories();
    await expect(model.setLinearWeight('model.layers.0.mlp.up_proj', Tensor.zeros('f32', [64, 172]))).rejects.toMatchObject({ code: 'E_SHAPE_MISMATCH' });
    await expect(model.getLinearWeight('model.layers.9.mlp.up_proj')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    await model.dispose();
  });

  it('exposes GPT-2 Conv1D weights transposed to [out, in], q/k/v split from c_attn', async () => {
    const dir = sharedPath('reference', 'tiny', 'gpt2');
    const src = await openHfWeights(dir);
    const model = new CausalLM(await readHfConfig(dir), src, backend);
    const cattn = (await src.read('transformer.h.1.attn.c_attn.weight')).data as Float32Array; // [64, 192]
    const k = await model.getLinearWeight('transformer.h.1.attn.c_attn.k');
    expect(k.shape).toEqual([64, 64]);
    for (const [o, i] of [[0, 0], [5, 7], [63, 63]] as const) expect(k.data[o * 64 + i]).toBe(cattn[i * 192 + 64 + o]);
    const fc = await model.getLinearWeight('transformer.h.0.mlp.c_fc');
    expect(fc.shape).toEqual([256, 64]);
    await model.dispose();
  });
});
