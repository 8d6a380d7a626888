// End-to-end prefill and decode tokens/s of compressed models on the cpu-wasm
// backend (run after build; issue #6):
//   node [--experimental-wasm-relaxed-simd] bench/e2e-tokens.bench.mjs [--model 7b|stories|both]
//        [--threads 2] [--out file.json] [--quick] [--int8-prefill] [--formats dense,int8,2:4+int8]
// Models: one LLaMA-7B-shaped block (hidden 4096, MLP 11008, 32 heads,
// vocabulary 512 so the stories260K tokenizer fits; synthetic weights, see
// synthetic7b) and stories260K (../shared). Formats: dense f32, dense f16
// (the weights rounded to f16 and kept half precision), 2:4 (magnitude), INT4
// (RTN, asymmetric), 2:4 + INT4, INT8 and 2:4 + INT8 (RTN, asymmetric), and on the 7B block 4:8, 4:8 + INT4 and SpQR (3-bit base in groups of 16, bilevel
// 3-bit statistics over 16 rows, the 1 % largest RTN errors as f16 outliers; data-free), applied to every block
// linear (q k v o gate up down) with the @sparq/format encoders and written as a sparq container
// (docs/format.md §10) to a temp folder; embeddings, norms and the head stay
// dense f32. Each container is loaded with
// `loadModel(path, { packed: true, halfWeights: true })`, so the compressed
// linears run on the packed kernels and the f16 ones as stored. Groups: 128 columns for the 7B block; per-channel for
// stories260K (its K = 64 and 172 have no common group of 128).
// Before timing, the bench checks that every block linear runs packed (f16:
// half precision) and, for stories260K, that the logits match the container
// decoded (widened) to f32.
// Prefill: one forward of PREFILL (128) tokens (lastOnly logits). Decode: DECODE (32)
// single-token forwards through the KV cache after a CONTEXT-token context
// (--context, default PREFILL; a model is skipped when that exceeds its positions).
// The formats of a model are loaded together and timed round-robin
// (1 warm-up round + 4 timed rounds; medians), so load from other processes
// hits them alike.
// Weight bytes per token are the bytes a decode step streams: every block
// linear in its format (sparq format sizes) + the dense head; effective GB/s =
// those bytes × decode tokens/s. Synthetic weights carry no meaning, only time.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize, table, writeJson } from '@sparq/bench';
import { createCpuWasmBackend, relaxedSimdAvailable } from '@sparq/backend-cpu-wasm';
import { compressNM, createContainerWriter, decodeBilevelStat, encodeNMQuant, encodeOutliers, encodeQuantized, encodeSpqr, openSafetensorsModel, quantizeBilevelStat } from '@sparq/format';
import { Tensor, f16ToF32, f32ArrayToF16, f32ToF16 } from '@sparq/tensor';
import { loadModel } from '../dist/index.js';

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const outPath = flag('--out');
const quick = args.includes('--quick');
// --int8-prefill: the backend's int8Prefill option (2–4-bit weights prefill on the int8 GEMV, per row).
const INT8_PREFILL = args.includes('--int8-prefill');
const which = flag('--model') ?? 'both';
const THREADS = Number(flag('--threads') ?? Math.min(2, availableParallelism()));
const PREFILL = quick ? 16 : 128;
const DECODE = quick ? 4 : 32;
// Positions already in the KV cache when the timed decode steps start (default: the prefill length).
const CONTEXT = Number(flag('--context') ?? PREFILL);
if (!Number.isInteger(CONTEXT) || CONTEXT < 1) {
  console.error(`e2e-tokens: --context must be a positive integer, found ${flag('--context')}`);
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const shared = process.env.SPARQ_SHARED ? resolve(process.env.SPARQ_SHARED) : resolve(here, '..', '..', '..', '..', 'shared');
const STORIES = join(shared, 'models', 'stories260K');
const TOKENIZER = join(STORIES, 'tok512.bin');
const ALL_FORMATS = ['dense', 'f16', '2:4', 'int4', '2:4+int4', 'int8', '2:4+int8', '4:8', '4:8+int4', 'spqr3'];
// --formats: a subset (dense is always kept: it is the baseline).
const onlyFormats = flag('--formats')?.split(',');
for (const f of onlyFormats ?? []) {
  if (!ALL_FORMATS.includes(f)) {
    console.error(`e2e-tokens: unknown format '${f}' in --formats (known: ${ALL_FORMATS.join(', ')})`);
    process.exit(2);
  }
}
const FORMATS = onlyFormats ? ALL_FORMATS.filter((f) => f === 'dense' || onlyFormats.includes(f)) : ALL_FORMATS;
/** Formats only the 7B block runs (stories260K's K = 64 and 172 fit neither 4:8 nor groups of 16 with its per-channel setup). */
const ONLY_7B = new Set(['4:8', '4:8+int4', 'spqr3']);
/** N:M of the sparse formats. 4:8 needs every linear's K to be a multiple of 8: only the 7B block (stories260K's down_proj reads 172). */
const NM = { '2:4': [2, 4], '2:4+int4': [2, 4], '2:4+int8': [2, 4], '4:8': [4, 8], '4:8+int4': [4, 8] };
const LINEAR = /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/;

// --- compression (data-free: magnitude 2:4, round-to-nearest asymmetric INT4) --------

/** Magnitude N:M mask `[rows, cols]`: the n largest |w| of every m consecutive columns (ties: the lower column). */
function maskNM(w, n, m) {
  const mask = new Uint8Array(w.length);
  for (let b = 0; b < w.length; b += m) {
    for (let kept = 0; kept < n; kept++) {
      let best = -1;
      for (let j = 0; j < m; j++) if (!mask[b + j] && (best < 0 || Math.abs(w[b + j]) > Math.abs(w[b + best]))) best = j;
      mask[b + best] = 1;
    }
  }
  return mask;
}

/** RTN asymmetric `bits`-bit quantization per group of `g` columns over the (masked) weights. */
function rtn(w, rows, cols, g, mask, bits = 4) {
  const qmax = 2 ** bits - 1;
  const groups = cols / g;
  const codes = new Uint8Array(rows * cols);
  const scales = new Float32Array(rows * groups);
  const zeros = new Uint8Array(rows * groups);
  for (let t = 0; t < rows * groups; t++) {
    const base = Math.floor(t / groups) * cols + (t % groups) * g;
    let lo = 0;
    let hi = 0; // the range includes 0 so a pruned weight's zero-point code is exact
    for (let c = 0; c < g; c++) {
      if (mask && !mask[base + c]) continue;
      lo = Math.min(lo, w[base + c]);
      hi = Math.max(hi, w[base + c]);
    }
    const s = f16ToF32(f32ToF16((hi - lo) / qmax || 1e-8)); // the scale as stored (f16)
    const z = Math.min(qmax, Math.max(0, Math.round(-lo / s)));
    scales[t] = s;
    zeros[t] = z;
    for (let c = 0; c < g; c++) codes[base + c] = Math.min(qmax, Math.max(0, Math.round(w[base + c] / s) + z));
  }
  return { codes, scales, zeros };
}

/**
 * Data-free SpQR-style 3-bit weight (§5–§6): per group of 16 columns an asymmetric min/max grid whose scale and
 * zero-point are bilevel-quantized (3-bit codes over blocks of 16 rows, f16 second-level statistics), the codes
 * rounded on the decoded grid, and per row the 1 % of weights with the largest rounding error kept as f16 outliers.
 */
function spqr3(w, rows, cols) {
  const g = 16;
  const G = cols / g;
  const maxq = 7;
  const s1 = new Float32Array(rows * G);
  const z1 = new Float32Array(rows * G);
  for (let t = 0; t < rows * G; t++) {
    const base = Math.floor(t / G) * cols + (t % G) * g;
    let lo = Infinity;
    let hi = -Infinity;
    for (let c = 0; c < g; c++) {
      lo = Math.min(lo, w[base + c]);
      hi = Math.max(hi, w[base + c]);
    }
    s1[t] = (hi - lo) / maxq || 1e-8;
    z1[t] = -lo / s1[t];
  }
  const scales = quantizeBilevelStat(s1, rows, G, 3, 16);
  const zeros = quantizeBilevelStat(z1, rows, G, 3, 16);
  const s = decodeBilevelStat(scales, rows, G);
  const z = decodeBilevelStat(zeros, rows, G);
  const codes = new Uint8Array(rows * cols);
  const err = new Float32Array(cols);
  const mask = new Uint8Array(rows * cols);
  const keep = Math.round(cols / 100);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const t = r * G + Math.floor(c / g);
      const q = Math.min(maxq, Math.max(0, Math.round(w[r * cols + c] / s[t] + z[t])));
      codes[r * cols + c] = q;
      err[c] = Math.abs(w[r * cols + c] - Math.fround(s[t] * (q - z[t])));
    }
    const cut = Float32Array.from(err).sort()[cols - keep];
    for (let c = 0, n = 0; c < cols && n < keep; c++) if (err[c] >= cut) (mask[r * cols + c] = 1), n++;
  }
  return encodeSpqr({ rows, cols, bits: 3, groupSize: g, codes, scales, zeros, outliers: encodeOutliers(rows, cols, mask, w) });
}

/** The packed form of one `[rows, cols]` f32 linear in `format` (undefined: stored as a plain tensor). */
function compressLinear(format, w, rows, cols, g) {
  if (format === 'dense' || format === 'f16') return undefined;
  if (format === 'spqr3') return spqr3(w, rows, cols);
  if (format === 'int4' || format === 'int8') {
    const bits = format === 'int8' ? 8 : 4;
    return encodeQuantized({ rows, cols, bits, groupSize: g, sym: false, ...rtn(w, rows, cols, g, undefined, bits) });
  }
  const [n, m] = NM[format];
  const mask = maskNM(w, n, m);
  if (!format.includes('+int')) return compressNM(w.map((v, i) => (mask[i] ? v : 0)), rows, cols, n, m, mask);
  const bits = format.endsWith('+int8') ? 8 : 4;
  return encodeNMQuant({ rows, cols, n, m, bits, groupSize: g, sym: false, mask, ...rtn(w, rows, cols, g, mask, bits) });
}

/** Bytes of a packed weight as stored (sparq format §2–§4: every component array). */
function packedBytes(p) {
  if (p.kind === 'spqr') {
    const stat = (b) => b.codes.byteLength + b.scale.byteLength + b.zero.byteLength;
    const o = p.outliers;
    return p.codes.byteLength + stat(p.scales) + stat(p.zeros) + o.rowPtr.byteLength + o.cols.byteLength + o.values.byteLength;
  }
  return ['codes', 'scales', 'zeros', 'indices', 'values'].reduce((s, k) => s + (p[k]?.byteLength ?? 0), 0);
}

/**
 * Writes `tensors` (an async iterable of [name, f32 Tensor]) as a sparq container
 * in `format`; returns the bytes a decode step streams through the block linears.
 */
async function writeContainer(dir, config, tensors, format, groupOf) {
  const w = await createContainerWriter(dir, { architecture: config, tokenizerFiles: [TOKENIZER], toolVersion: 'e2e-tokens.bench' });
  let linearBytes = 0;
  try {
    for await (const [name, t] of tensors) {
      const [rows, cols] = t.shape;
      const packed = LINEAR.test(name) ? compressLinear(format, t.data, rows, cols, groupOf(cols)) : undefined;
      const half = LINEAR.test(name) && format === 'f16';
      if (packed) await w.addPacked(name, packed, { method: `bench-${format}` });
      else await w.addTensor(name, half ? new Tensor('f16', t.shape, f32ArrayToF16(t.data)) : t);
      if (LINEAR.test(name)) linearBytes += packed ? packedBytes(packed) : (half ? 2 : 4) * rows * cols;
    }
    await w.finish();
  } catch (e) {
    await w.abort();
    throw e;
  }
  return linearBytes;
}

// --- models ------------------------------------------------------------------

/** Deterministic pseudo-normal values (sum of 4 xorshift uniforms), f32. */
function synth(n, seed, scale) {
  let x = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < 4; k++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      s += (x >>> 0) / 4294967296;
    }
    out[i] = (s - 2) * scale * 1.7320508;
  }
  return out;
}

/** One LLaMA-7B block (hidden 4096, MLP 11008, 32 heads), vocabulary 512; weights N(0, 0.02²)-like, norms 1. */
function synthetic7b() {
  const D = 4096;
  const F = 11008;
  const V = 512;
  const config = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: D, intermediate_size: F, num_hidden_layers: 1,
    num_attention_heads: 32, num_key_value_heads: 32, vocab_size: V, max_position_embeddings: 2048, rms_norm_eps: 1e-5,
    rope_theta: 10000, hidden_act: 'silu', tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2, torch_dtype: 'float32',
  };
  const shapes = [
    ['model.embed_tokens.weight', [V, D]],
    ['model.layers.0.input_layernorm.weight', [D]],
    ['model.layers.0.self_attn.q_proj.weight', [D, D]],
    ['model.layers.0.self_attn.k_proj.weight', [D, D]],
    ['model.layers.0.self_attn.v_proj.weight', [D, D]],
    ['model.layers.0.self_attn.o_proj.weight', [D, D]],
    ['model.layers.0.post_attention_layernorm.weight', [D]],
    ['model.layers.0.mlp.gate_proj.weight', [F, D]],
    ['model.layers.0.mlp.up_proj.weight', [F, D]],
    ['model.layers.0.mlp.down_proj.weight', [D, F]],
    ['model.norm.weight', [D]],
    ['lm_head.weight', [V, D]],
  ];
  async function* tensors() {
    let seed = 1;
    for (const [name, shape] of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      yield [name, new Tensor('f32', shape, name.endsWith('norm.weight') ? new Float32Array(n).fill(1) : synth(n, seed++, 0.02))];
    }
  }
  return { name: 'LLaMA-7B-shaped block ×1 (synthetic)', config, tensors, groupOf: () => 128, headBytes: 4 * V * D };
}

async function stories260k() {
  const config = JSON.parse(await (await import('node:fs/promises')).readFile(join(STORIES, 'hf', 'config.json'), 'utf8'));
  async function* tensors() {
    const src = await openSafetensorsModel(join(STORIES, 'hf'));
    try {
      for (const name of src.names()) yield [name, (await src.read(name)).toF32()];
    } finally {
      await src.close();
    }
  }
  return {
    name: 'stories260K',
    config,
    tensors,
    groupOf: (cols) => cols,
    headBytes: 4 * config.vocab_size * config.hidden_size,
    checkDecoded: true,
    formats: FORMATS.filter((f) => !ONLY_7B.has(f)),
  };
}

// --- checks before timing --------------------------------------------------------

/**
 * Every block linear must run packed (none for dense), so the timings are of the
 * packed kernels; for small models the packed prefill logits must also match the
 * same container decoded to f32 at load (`packed: false`), both on a backend
 * with `int8Activations: false` — with int8 activations (the timed backend's
 * small batches, `--quick`'s 16-token prefill, `--int8-prefill`) packed logits
 * carry the int8 error by design, which the kernel tests bound.
 */
async function checkPacked(model, format, spec, dir, ids) {
  let packed = 0;
  let half = 0;
  let linears = 0;
  for (let i = 0; i < model.numBlocks; i++) {
    const w = await model.loadBlock(i);
    for (const l of [w.q, w.k, w.v, w.o, w.gate, w.up, w.down]) {
      linears += 1;
      if (l.packed) packed += 1;
      if (l.half) half += 1;
    }
  }
  const want = format === 'dense' || format === 'f16' ? 0 : linears;
  if (packed !== want) throw new Error(`${spec.name} ${format}: ${packed} of ${linears} linears run packed, expected ${want}`);
  if (half !== (format === 'f16' ? linears : 0)) throw new Error(`${spec.name} ${format}: ${half} of ${linears} linears run half precision`);
  if (!spec.checkDecoded || format === 'dense') return;
  const exact = createCpuWasmBackend({ threads: THREADS, int8Activations: false });
  await exact.init();
  const { model: packedExact } = await loadModel(dir, { backend: exact, packed: true, halfWeights: true, tokenizer: TOKENIZER });
  const { model: decoded } = await loadModel(dir, { backend: exact, packed: false, halfWeights: false, tokenizer: TOKENIZER });
  const a = (await packedExact.forward(ids, undefined, { lastOnly: true })).data;
  const b = (await decoded.forward(ids, undefined, { lastOnly: true })).data;
  await packedExact.dispose();
  await decoded.dispose();
  await exact.dispose();
  let e = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    e += (a[i] - b[i]) ** 2;
    d += b[i] ** 2;
  }
  if (!(Math.sqrt(e / d) < 1e-4)) throw new Error(`${spec.name} ${format}: packed logits differ from decoded ones (relative L2 ${Math.sqrt(e / d)})`);
}

// --- run -----------------------------------------------------------------------

const simd = (await relaxedSimdAvailable()) ? 'relaxed' : 'baseline';
const machine = { cpu: cpus()[0]?.model ?? 'unknown', vcpus: availableParallelism(), node: process.version, simd, date: new Date().toISOString() };
console.log(`machine: ${machine.cpu}, ${machine.vcpus} vCPU, node ${machine.node}, wasm SIMD build: ${simd}; cpu-wasm ${THREADS} threads; prefill ${PREFILL} tokens, decode ${DECODE} tokens after ${CONTEXT}${INT8_PREFILL ? "; int8Prefill" : ""}${quick ? ' (--quick: smoke run)' : ''}`);

const models = [];
for (const spec of [which === '7b' || which === 'both' ? synthetic7b() : undefined, which === 'stories' || which === 'both' ? await stories260k() : undefined]) {
  if (!spec) continue;
  const maxPos = spec.config.max_position_embeddings;
  if (Math.max(PREFILL, CONTEXT) + DECODE > maxPos) console.log(`${spec.name} skipped: --context ${CONTEXT} + ${DECODE} decode tokens exceed its ${maxPos} positions`);
  else models.push(spec);
}

const root = mkdtempSync(join(tmpdir(), 'sparq-e2e-'));
const rows = [];
const REPS = quick ? 2 : 4;
try {
  for (const spec of models) {
    // All formats are loaded at once (one backend each) and timed round-robin, one prefill and one decode rep
    // per format per round, so load from other processes on this shared machine hits all formats alike.
    const runs = [];
    for (const format of FORMATS.filter((f) => !spec.formats || spec.formats.includes(f))) {
      const dir = join(root, `${spec.name.split(' ')[0]}-${format.replace(/[:+]/g, '_')}`);
      const t0 = performance.now();
      const linearBytes = await writeContainer(dir, spec.config, spec.tensors(), format, spec.groupOf);
      const writeS = (performance.now() - t0) / 1000;
      const backend = createCpuWasmBackend({ threads: THREADS, int8Prefill: INT8_PREFILL });
      await backend.init();
      const { model, tokenizer } = await loadModel(dir, { backend, packed: true, halfWeights: true, tokenizer: TOKENIZER });
      const ids = tokenizer.encode('Once upon a time, there was a little girl named Lily. '.repeat(200)).slice(0, Math.max(PREFILL, CONTEXT) + DECODE);
      await checkPacked(model, format, spec, dir, ids.slice(0, PREFILL));
      runs.push({ format, dir, backend, model, ids, linearBytes, writeS, prefillMs: [], decodeMs: [] });
    }
    // Round 0 is the warm-up (not recorded).
    for (let round = 0; round <= REPS; round++) {
      for (const r of runs) {
        const context = r.ids.slice(0, PREFILL);
        const t0 = performance.now();
        await r.model.forward(context, undefined, { lastOnly: true });
        const prefill = performance.now() - t0;
        // Decode: a fresh CONTEXT-token context (untimed), then DECODE timed single-token steps.
        const cache = r.model.createCache();
        await r.model.forward(r.ids.slice(0, CONTEXT), cache, { lastOnly: true });
        const t1 = performance.now();
        for (let t = 0; t < DECODE; t++) await r.model.forward([r.ids[CONTEXT + t]], cache, { lastOnly: true });
        const decode = performance.now() - t1;
        if (round > 0) {
          r.prefillMs.push(prefill);
          r.decodeMs.push(decode);
        }
      }
    }
    let dense;
    for (const r of runs) {
      await r.model.dispose();
      await r.backend.dispose();
      rmSync(r.dir, { recursive: true, force: true });
      const prefill = summarize(r.prefillMs);
      const decode = summarize(r.decodeMs);
      const bytesPerToken = r.linearBytes + spec.headBytes;
      const t = { prefillTps: PREFILL / (prefill.median / 1000), decodeTps: DECODE / (decode.median / 1000) };
      dense ??= t;
      rows.push({
        model: spec.name,
        format: r.format,
        'prefill tok/s': t.prefillTps,
        'prefill p90 ms': prefill.p90,
        'decode tok/s': t.decodeTps,
        'decode p90 ms/tok': decode.p90 / DECODE,
        'W MB/token': bytesPerToken / 1e6,
        'decode GB/s': (bytesPerToken * t.decodeTps) / 1e9,
        'prefill x dense': t.prefillTps / dense.prefillTps,
        'decode x dense': t.decodeTps / dense.decodeTps,
        'write s': r.writeS,
      });
      console.log(`done ${spec.name} ${r.format}: prefill ${t.prefillTps.toFixed(1)} tok/s, decode ${t.decodeTps.toFixed(2)} tok/s`);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
table(rows);
if (outPath) {
  writeJson(resolve(process.cwd(), outPath), { machine, threads: THREADS, int8Prefill: INT8_PREFILL, prefillTokens: PREFILL, decodeTokens: DECODE, contextTokens: CONTEXT, rows });
  console.log(`wrote ${outPath}`);
}
