/**
 * `CausalLM`: a decoder-only language model over a lazy weight source, with a
 * full forward pass (KV cache) and a layer-by-layer API for calibration:
 * `embed` → `runBlock(i)` … → `head`, blocks loaded on demand and freeable.
 */
import { SparqError, Tensor, type Backend } from '@sparq/tensor';
import type { ArchSpec, GlobalWeights } from './architecture';
import { blockLinears, runBlock, type BlockWeights, type LinearInputHook, type LinearWeights } from './block';
import type { ModelConfig } from './config';
import { gpt2Spec } from './gpt2';
import { KvCache } from './kv-cache';
import { llamaSpec } from './llama';
import { releaseNorm } from './model-kernels';
import { embedTokens, lmHead } from './embedding';
import { optSpec } from './opt';
import { ropeInvFreq } from './rope';
import type { WeightSource } from './weight-source';

const SPECS: Record<ModelConfig['architecture'], ArchSpec> = {
  llama: llamaSpec,
  mistral: llamaSpec,
  qwen2: llamaSpec,
  opt: optSpec,
  gpt2: gpt2Spec,
};

/** Options of {@link CausalLM.forward}. */
export interface ForwardOptions {
  /** Return only the last position's logits (`[1, vocab]`), as generation needs. */
  lastOnly?: boolean;
}

/** Options of {@link CausalLM.runBlock}. */
export interface RunBlockOptions {
  /**
   * Receives the input activations `[batch·seqLen, in]` of each linear layer
   * by HF name. q/k/v (and gate/up) share one input: the hook is called once
   * per name with the same tensor object. Awaited when it returns a promise.
   */
  onLinearInput?: LinearInputHook;
  /** Absolute position of the first token (default 0). */
  startPos?: number;
}

/**
 * A causal language model. Weights are widened to f32 as they load; every
 * matmul runs through `backend` as `matmulDense` with `transposeB` (weights in
 * the PyTorch `[out, in]` layout); norms, RoPE, attention and softmax run in JS.
 *
 * Blocks load from the weight source on first use and stay loaded until
 * {@link CausalLM.unloadBlock}; a driver can walk a model larger than memory
 * one block at a time.
 * @example
 * const { model, tokenizer } = await loadModel('models/stories260K/hf', { backend, tokenizer: 'tok512.bin' });
 * const logits = await model.forward(tokenizer.encode('Once upon'));
 */
export class CausalLM {
  /** Number of transformer blocks. */
  readonly numBlocks: number;
  private readonly spec: ArchSpec;
  private readonly invFreq: Float64Array | undefined;
  private readonly blocks: (BlockWeights | undefined)[];
  private readonly pending = new Map<number, Promise<BlockWeights>>();
  private globals: Promise<GlobalWeights> | undefined;
  private readonly overrides = new Map<string, Tensor<'f32'>>();
  private readonly linearIndex = new Map<string, { block: number; slot: number }>();

  /** Wraps a weight source; nothing is read until first use. */
  constructor(
    readonly config: ModelConfig,
    readonly source: WeightSource,
    readonly backend: Backend,
  ) {
    this.spec = SPECS[config.architecture];
    this.numBlocks = config.numLayers;
    this.blocks = new Array(config.numLayers).fill(undefined);
    this.invFreq = config.ropeTheta === undefined ? undefined : ropeInvFreq(config.headDim, config.ropeTheta, config.ropeScaling);
    for (let i = 0; i < this.numBlocks; i++) {
      this.spec.linearNames(config, i).forEach((name, slot) => this.linearIndex.set(name, { block: i, slot }));
    }
  }

  /** HF names of block `i`'s linear layers (q, k, v, o, [gate], up, down order). */
  blockLinearNames(i: number): string[] {
    this.checkBlock(i);
    return this.spec.linearNames(this.config, i);
  }

  /** HF names of every linear layer of every block. */
  linearNames(): string[] {
    return [...this.linearIndex.keys()];
  }

  /** Total elements of every stored tensor (read from headers; llama2.c's legacy RoPE tables are not stored tensors). */
  parameterCount(): number {
    let n = 0;
    for (const name of this.source.names()) n += this.source.info(name).shape.reduce((a, b) => a * b, 1);
    return n;
  }

  /** A fresh, empty KV cache for {@link CausalLM.forward}. */
  createCache(): KvCache {
    return new KvCache(this.numBlocks, this.config.numKvHeads * this.config.headDim);
  }

  /** Loads block `i`'s weights (if not loaded) and returns them. */
  async loadBlock(i: number): Promise<BlockWeights> {
    this.checkBlock(i);
    const have = this.blocks[i];
    if (have) return have;
    let p = this.pending.get(i);
    if (!p) {
      p = this.spec.loadBlock(this.source, this.config, i).then((w) => {
        for (const l of blockLinears(w)) {
          const o = this.overrides.get(l.name);
          if (o) l.weight = o;
        }
        this.blocks[i] = w;
        this.pending.delete(i);
        return w;
      });
      p.catch(() => this.pending.delete(i));
      this.pending.set(i, p);
    }
    return p;
  }

  /** Loads the embedding, final norm, head and every block (for full-model use). */
  async loadAll(onProgress?: (p: { done: number; total: number }) => void): Promise<void> {
    await this.loadGlobals();
    for (let i = 0; i < this.numBlocks; i++) {
      await this.loadBlock(i);
      onProgress?.({ done: i + 1, total: this.numBlocks });
    }
  }

  /** True when block `i`'s weights are in memory. */
  isBlockLoaded(i: number): boolean {
    return this.blocks[i] !== undefined;
  }

  /**
   * Drops block `i`'s weights and their backend copies. Weights set with
   * {@link CausalLM.setLinearWeight} survive (they are reapplied on reload)
   * unless `discardOverrides` is set, which reverts them to the source.
   */
  unloadBlock(i: number, opts: { discardOverrides?: boolean } = {}): void {
    this.checkBlock(i);
    const w = this.blocks[i];
    // A packed linear's backend copy is of the packed weight; reading `weight` would decode it just to release it.
    if (w) {
      for (const l of blockLinears(w)) this.backend.release(l.packed ?? l.half ?? l.weight);
      releaseNorm(this.backend, w.norm1);
      releaseNorm(this.backend, w.norm2);
    }
    this.blocks[i] = undefined;
    if (opts.discardOverrides) for (const n of this.spec.linearNames(this.config, i)) this.overrides.delete(n);
  }

  /** The `[out, in]` f32 weight of linear `name` (loads its block). */
  async getLinearWeight(name: string): Promise<Tensor<'f32'>> {
    return (await this.findLinear(name)).weight;
  }

  /** The bias of linear `name`, or undefined. */
  async getLinearBias(name: string): Promise<Float32Array | undefined> {
    return (await this.findLinear(name)).bias;
  }

  /**
   * Replaces linear `name`'s weight (`[out, in]`, any float dtype, widened to
   * f32). The old tensor's backend copy is released. Do not mutate a tensor
   * after handing it over: backends cache copies by identity.
   */
  async setLinearWeight(name: string, w: Tensor): Promise<void> {
    const l = await this.findLinear(name);
    // A packed linear is not decoded just to be replaced: its shape comes from the packed header.
    const packed = l.packed;
    const shape = packed ? [packed.rows, packed.cols] : (l.half ?? l.weight).shape;
    if (w.shape.length !== 2 || w.shape[0] !== shape[0] || w.shape[1] !== shape[1]) {
      throw new SparqError('E_SHAPE_MISMATCH', `setLinearWeight("${name}"): expected [${shape.join(', ')}], found [${w.shape.join(', ')}]`, {
        details: { tensor: name, expected: shape, found: w.shape },
      });
    }
    const f = w.toF32();
    if (packed) this.backend.release(packed);
    else if (l.half) this.backend.release(l.half);
    else if (f !== l.weight) this.backend.release(l.weight);
    l.weight = f;
    this.overrides.set(name, f);
  }

  /**
   * Token (and learned position) embeddings of `ids` — one sequence or several
   * of equal length — as hidden states `[batch, seqLen, hidden]`.
   */
  async embed(ids: readonly number[] | readonly (readonly number[])[], startPos = 0): Promise<Tensor<'f32'>> {
    return embedTokens(await this.loadGlobals(), this.config, ids, startPos);
  }

  /**
   * Runs block `i` on hidden states `[batch, seqLen, hidden]` (each sequence
   * independently, causal from `startPos`), loading its weights if needed.
   */
  async runBlock(i: number, hidden: Tensor<'f32'>, opts: RunBlockOptions = {}): Promise<Tensor<'f32'>> {
    const [B, T] = this.hiddenShape(hidden);
    const w = await this.loadBlock(i);
    const ctx = { config: this.config, backend: this.backend, layer: i, invFreq: this.invFreq, onLinearInput: opts.onLinearInput };
    const out = await runBlock(w, hidden.data, B, T, opts.startPos ?? 0, ctx);
    return new Tensor('f32', [B, T, this.config.hiddenSize], out);
  }

  /** Final norm and LM head: hidden `[batch, seqLen, hidden]` → logits `[batch, seqLen, vocab]` (or `[batch, 1, vocab]` with `lastOnly`). */
  async head(hidden: Tensor<'f32'>, opts: ForwardOptions = {}): Promise<Tensor<'f32'>> {
    const [B, T] = this.hiddenShape(hidden);
    return lmHead(await this.loadGlobals(), this.config, this.backend, hidden.data, B, T, opts.lastOnly ?? false);
  }

  /**
   * Runs `ids` (one sequence) through the model and returns logits
   * `[seqLen, vocab]` (`[1, vocab]` with `lastOnly`). With a cache, `ids`
   * continue the cached sequence and their keys/values are appended.
   */
  async forward(ids: readonly number[], cache?: KvCache, opts: ForwardOptions = {}): Promise<Tensor<'f32'>> {
    const hidden = await this.forwardHidden(ids, cache);
    const logits = await this.head(hidden, opts);
    return logits.reshape([opts.lastOnly ? 1 : ids.length, this.config.vocabSize]);
  }

  /** Like {@link CausalLM.forward} but stops before the final norm: hidden `[1, seqLen, hidden]`. */
  async forwardHidden(ids: readonly number[], cache?: KvCache): Promise<Tensor<'f32'>> {
    if (ids.length === 0) throw new SparqError('E_ARG', 'forward: empty input');
    const start = cache?.length ?? 0;
    const c = this.config;
    if (start + ids.length > c.maxPositions && c.ropeTheta === undefined) {
      throw new SparqError('E_ARG', `sequence of ${start + ids.length} tokens exceeds max positions ${c.maxPositions}`);
    }
    let h = await this.embed(ids, start);
    for (let i = 0; i < this.numBlocks; i++) {
      const w = await this.loadBlock(i);
      const ctx = { config: c, backend: this.backend, layer: i, invFreq: this.invFreq };
      h = new Tensor('f32', h.shape, await runBlock(w, h.data, 1, ids.length, start, ctx, cache));
    }
    cache?.commit(ids.length);
    return h;
  }

  /** Releases every backend copy and closes the weight source. */
  async dispose(): Promise<void> {
    for (let i = 0; i < this.numBlocks; i++) if (this.blocks[i]) this.unloadBlock(i);
    if (this.globals) {
      const g = await this.globals;
      this.backend.release(g.lmHead);
      releaseNorm(this.backend, g.finalNorm);
      this.globals = undefined;
    }
    await this.source.close();
  }

  private loadGlobals(): Promise<GlobalWeights> {
    this.globals ??= this.spec.loadGlobals(this.source, this.config);
    return this.globals;
  }

  private async findLinear(name: string): Promise<LinearWeights> {
    const at = this.linearIndex.get(name);
    if (!at) {
      throw new SparqError('E_NOT_FOUND', `no linear layer named "${name}"`, {
        details: { tensor: name },
        hint: `names look like ${this.spec.linearNames(this.config, 0)[0]} (see model.linearNames())`,
      });
    }
    return blockLinears(await this.loadBlock(at.block))[at.slot]!;
  }

  private checkBlock(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.numBlocks) {
      throw new SparqError('E_ARG', `block index ${i} out of range [0, ${this.numBlocks})`, { details: { expected: this.numBlocks, found: i } });
    }
  }

  private hiddenShape(h: Tensor<'f32'>): [number, number] {
    const D = this.config.hiddenSize;
    if (h.rank !== 3 || h.shape[2] !== D) {
      throw new SparqError('E_SHAPE_MISMATCH', `hidden states: expected [batch, seqLen, ${D}], found [${h.shape.join(', ')}]`, {
        details: { expected: [-1, -1, D], found: h.shape },
      });
    }
    return [h.shape[0]!, h.shape[1]!];
  }
}
