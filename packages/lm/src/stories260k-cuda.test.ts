/**
 * Issue #10's end-to-end check: stories260K greedy generation on the CUDA
 * backend equals the CPU backend token for token (the CPU reference ids come
 * from ../shared, produced independently by PyTorch). Needs an NVIDIA GPU and
 * the built addon; elsewhere the suite is skipped with the CUDA reason printed
 * — never silently. On a GPU machine: `pnpm --filter @sparq/lm exec vitest run
 * src/stories260k-cuda.test.ts`.
 */
import { readFileSync } from 'node:fs';
import { createCudaBackend, cudaStatus } from '@sparq/backend-cuda';
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from './generate';
import { loadModel } from './load';

const status = cudaStatus();
if (!status.available) console.log(`stories260K on CUDA skipped: no usable CUDA device — ${status.reason}`);

describe.skipIf(!status.available)('stories260K on the CUDA backend', () => {
  const greedyRef = JSON.parse(readFileSync(sharedPath('models', 'stories260K', 'reference-greedy-Zoo.json'), 'utf8')) as {
    greedy_ids: number[];
    prompt_ids: number[];
  };
  const path = sharedPath('models', 'stories260K', 'hf');
  const tok = sharedPath('models', 'stories260K', 'tok512.bin');
  const cuda = createCudaBackend();
  const cpu = createCpuWasmBackend({ threads: 2 });
  afterAll(async () => {
    await cuda.dispose();
    await cpu.dispose();
  });

  it('greedy "Zoo" equals the CPU backend and the PyTorch reference token for token', async () => {
    const maxTokens = greedyRef.greedy_ids.length - greedyRef.prompt_ids.length;
    const onGpu = await loadModel(path, { backend: cuda, tokenizer: tok });
    const onCpu = await loadModel(path, { backend: cpu, tokenizer: tok });
    const g = await generate(onGpu.model, onGpu.tokenizer, 'Zoo', { maxTokens });
    const c = await generate(onCpu.model, onCpu.tokenizer, 'Zoo', { maxTokens });
    expect(g.ids).toEqual(c.ids);
    expect(g.ids).toEqual(greedyRef.greedy_ids);
  });
});
