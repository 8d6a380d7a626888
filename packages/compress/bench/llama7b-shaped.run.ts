/**
 * Bounded-memory check at LLaMA-7B layer shapes (opt-in: SPARQ_BENCH_7B=1).
 * Writes a synthetic f16 LLaMA checkpoint with LLaMA-7B blocks (hidden 4096,
 * MLP 11008, 32 heads; SPARQ_BENCH_7B_BLOCKS blocks, default 8; vocabulary 512
 * so the stories260K tokenizer can calibrate it), compresses it with magnitude
 * 2:4 (data-free: `errorStats: 'needed'` skips the O(tokens·cols²) statistics)
 * into a container, and reports model size vs the process's peak RSS. The
 * weights are random, so only memory and time mean anything here.
 *   SPARQ_BENCH_7B=1 npx vitest run --config bench/vitest.config.ts bench/llama7b-shaped.run.ts
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { writeSafetensorsStreaming } from '@sparq/format';
import { loadModel } from '@sparq/lm';
import { f32ArrayToF16, Tensor } from '@sparq/tensor';
import { sharedPath } from '@sparq/test-utils';
import { it } from 'vitest';
import { compressModel, validateRecipe } from '../src/index';

const BLOCKS = Number(process.env.SPARQ_BENCH_7B_BLOCKS ?? 8);
const D = 4096;
const F = 11008;
const V = 512;

/** Deterministic fast pseudo-normal values (sum of 4 xorshift uniforms, scaled), f16. */
function synth(n: number, seed: number, scale: number): Uint16Array {
  let x = (seed * 2654435761) >>> 0 || 1;
  const out = new Uint16Array(n);
  const chunk = new Float32Array(1 << 16);
  for (let o = 0; o < n; o += chunk.length) {
    const m = Math.min(chunk.length, n - o);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let k = 0; k < 4; k++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        s += (x >>> 0) / 4294967296;
      }
      chunk[i] = (s - 2) * scale * 1.7320508;
    }
    out.set(f32ArrayToF16(chunk.subarray(0, m)), o);
  }
  return out;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    const s = statSync(p);
    n += s.isDirectory() ? dirBytes(p) : s.size;
  }
  return n;
}

it.skipIf(process.env.SPARQ_BENCH_7B !== '1')(`LLaMA-7B-shaped blocks (${BLOCKS}), magnitude 2:4: peak RSS vs model size`, async () => {
  const root = mkdtempSync(join(tmpdir(), 'sparq-7b-'));
  const src = join(root, 'model');
  const out = join(root, 'out');
  try {
    const config = {
      architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: D, intermediate_size: F, num_hidden_layers: BLOCKS,
      num_attention_heads: 32, num_key_value_heads: 32, vocab_size: V, max_position_embeddings: 2048, rms_norm_eps: 1e-5,
      rope_theta: 10000, hidden_act: 'silu', tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2, torch_dtype: 'float16',
    };
    const entries: { name: string; dtype: 'f16'; shape: number[] }[] = [{ name: 'model.embed_tokens.weight', dtype: 'f16', shape: [V, D] }];
    for (let i = 0; i < BLOCKS; i++) {
      const p = `model.layers.${i}`;
      entries.push(
        { name: `${p}.input_layernorm.weight`, dtype: 'f16', shape: [D] },
        { name: `${p}.self_attn.q_proj.weight`, dtype: 'f16', shape: [D, D] },
        { name: `${p}.self_attn.k_proj.weight`, dtype: 'f16', shape: [D, D] },
        { name: `${p}.self_attn.v_proj.weight`, dtype: 'f16', shape: [D, D] },
        { name: `${p}.self_attn.o_proj.weight`, dtype: 'f16', shape: [D, D] },
        { name: `${p}.post_attention_layernorm.weight`, dtype: 'f16', shape: [D] },
        { name: `${p}.mlp.gate_proj.weight`, dtype: 'f16', shape: [F, D] },
        { name: `${p}.mlp.up_proj.weight`, dtype: 'f16', shape: [F, D] },
        { name: `${p}.mlp.down_proj.weight`, dtype: 'f16', shape: [D, F] },
      );
    }
    entries.push({ name: 'model.norm.weight', dtype: 'f16', shape: [D] }, { name: 'lm_head.weight', dtype: 'f16', shape: [V, D] });
    const t0 = performance.now();
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'config.json'), JSON.stringify(config, null, 2));
    let seed = 1;
    await writeSafetensorsStreaming(join(src, 'model.safetensors'), entries, (name) => {
      const e = entries.find((x) => x.name === name)!;
      const n = e.shape.reduce((a, b) => a * b, 1);
      const data = name.endsWith('layernorm.weight') || name === 'model.norm.weight' ? f32ArrayToF16(new Float32Array(n).fill(1)) : synth(n, seed++, 0.02);
      return new Tensor('f16', e.shape, data);
    });
    const params = entries.reduce((s, e) => s + e.shape.reduce((a, b) => a * b, 1), 0);
    console.log(`synthetic model: ${BLOCKS} LLaMA-7B blocks, ${(params / 1e9).toFixed(3)} B params, ${(dirBytes(src) / 2 ** 30).toFixed(2)} GiB f16 on disk (${((params * 4) / 2 ** 30).toFixed(2)} GiB as f32 in memory), written in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

    const backend = createCpuWasmBackend({ threads: 2 });
    await backend.init();
    const rssBefore = process.memoryUsage().rss;
    let maxSampled = rssBefore;
    const timer = setInterval(() => (maxSampled = Math.max(maxSampled, process.memoryUsage().rss)), 50);
    const { model, tokenizer } = await loadModel(src, { backend, tokenizer: sharedPath('models', 'stories260K', 'tok512.bin'), lazy: true });
    const recipe = validateRecipe({
      stages: [{ type: 'prune', method: 'magnitude', pattern: '2:4' }],
      calibration: { source: sharedPath('data', 'tinystories', 'tinystories_sample.txt'), samples: 2, seqlen: 32, seed: 0 },
    });
    const t1 = performance.now();
    const report = await compressModel({
      model, tokenizer, recipe, out, errorStats: 'needed',
      onProgress: (p) => p.phase === 'block-done' && console.log(`block ${p.block + 1}/${p.blocks} · ${p.elapsedSeconds.toFixed(0)} s · RSS ${(p.rssBytes / 2 ** 30).toFixed(2)} GiB`),
    });
    const seconds = (performance.now() - t1) / 1000;
    await model.dispose();
    clearInterval(timer);
    await backend.dispose();
    console.log(
      `compressed ${report.linears.length} linears in ${seconds.toFixed(0)} s; sampled peak RSS during compression ${(maxSampled / 2 ** 30).toFixed(2)} GiB ` +
        `(process before: ${(rssBefore / 2 ** 30).toFixed(2)} GiB; process maxRSS ${(report.totals.peakRssBytes / 2 ** 30).toFixed(2)} GiB); ` +
        `container ${(dirBytes(out) / 2 ** 30).toFixed(2)} GiB, ${report.linears[0]!.bitsPerWeight} bits/weight per linear`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(`${out}.sparq-tmp`, { recursive: true, force: true });
  }
});
