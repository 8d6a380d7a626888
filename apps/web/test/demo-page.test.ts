// The demo page in headless Chromium (WebGPU on SwiftShader where there is no GPU), driven like a user: load a
// compressed stories260K container by URL and by picking its files, generate greedily, and check (1) the WebGPU tokens
// equal the CPU reference backend's in Node token for token, (2) tokens/s, weight bytes and the adapter are shown and
// a screenshot is a real picture, (3) failures are explained on the page.
import { writeFile } from 'node:fs/promises';
import { generate, loadModel } from '@sparq/lm';
import { createReferenceBackend } from '@sparq/tensor';
import { launchWebGpuPage, type WebGpuPage } from '@sparq/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error build.mjs is plain JavaScript without type declarations
import { buildInMemory } from '../build.mjs';
import { buildStoriesContainer, type ContainerFixture } from './fixture';

const PROMPT = 'Once upon a time';
const MAX_TOKENS = 32;

let fixture: ContainerFixture;
let h: WebGpuPage;
const console: string[] = [];

beforeAll(async () => {
  const [fx, site] = await Promise.all([buildStoriesContainer(), buildInMemory() as Promise<Record<string, string>>]);
  fixture = fx;
  h = await launchWebGpuPage({
    files: (path) => (path.startsWith('/model/') ? fixture.files.get(decodeURIComponent(path.slice('/model/'.length))) : site[path === '/' ? '/index.html' : path]),
    onConsole: (line) => console.push(line),
  });
});
afterAll(async () => {
  await h?.close();
  await fixture?.cleanup();
});

/** Clicks Generate and waits until the page is done or failed; returns the error text when it failed. */
async function generateOnPage(): Promise<string | undefined> {
  await h.page.click('#generate');
  try {
    await h.page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), undefined, { timeout: Number(process.env.SPARQ_WEB_TIMEOUT_MS ?? 150_000) });
  } catch (e) {
    const status = await h.page.evaluate(() => `${document.body.dataset.state}: ${document.getElementById('status')?.textContent}`);
    throw new Error(`the page did not finish (${status})\n${console.join('\n')}`, { cause: e });
  }
  const state = await h.page.evaluate(() => document.body.dataset.state);
  return state === 'error' ? ((await h.page.textContent('#error')) ?? '') : undefined;
}

async function setRun(prompt: string, maxTokens: number, backend: 'webgpu' | 'reference'): Promise<void> {
  await h.page.fill('#prompt', prompt);
  await h.page.fill('#max-tokens', String(maxTokens));
  await h.page.selectOption('#backend', backend);
}

describe('demo page', () => {
  it('stories260K 2:4+INT4 greedy generation through WebGPU equals the CPU reference backend token for token', async () => {
    await setRun(PROMPT, MAX_TOKENS, 'webgpu');
    await h.page.fill('#url', '/model/');
    const failed = await generateOnPage();
    expect(failed, `${failed}\n${console.join('\n')}`).toBeUndefined();
    const page = JSON.parse((await h.page.textContent('#ids'))!) as { prompt: number[]; generated: number[] };
    const adapter = await h.page.textContent('#adapter');
    expect(adapter).toMatch(/^WebGPU — /);

    // The same container on the CPU in Node. The reference backend decodes the packed weights exactly and
    // accumulates in float64, as the WebGPU kernels do in f32 (no int8 activation quantization on either side).
    const backend = createReferenceBackend();
    const cpu = await loadModel(fixture.folder, { backend, packed: true });
    expect((await cpu.model.loadBlock(0)).q.packed?.kind).toBe('nm-quant');
    const want = await generate(cpu.model, cpu.tokenizer, PROMPT, { maxTokens: MAX_TOKENS });
    await cpu.model.dispose();
    expect(page.prompt).toEqual(want.ids.slice(0, want.stats.promptTokens));
    expect(page.generated.length).toBeGreaterThanOrEqual(16);
    expect(page.generated).toEqual(want.newIds);
    expect(await h.page.textContent('#output-text')).toBe(want.text);
    globalThis.console.log(`[web] ${adapter}\n[web] ${await h.page.textContent('#decode-tps')} decode, ${await h.page.textContent('#prefill-tps')} prefill; text: ${want.text}`);
  });

  it('loads picked files, generates, shows tokens/s and weight bytes, and screenshots as a real picture', async () => {
    await h.page.reload();
    await h.page.setInputFiles('#files', [...fixture.files].map(([name, buffer]) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(buffer) })));
    await h.page.waitForFunction(() => document.body.dataset.state !== 'loading' && /loaded/i.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 60_000 });
    expect(await h.page.textContent('#model-info')).toMatch(/selected files: llama, 5 layers, hidden 64, vocab 512; 260,032 parameters/);
    await setRun('The dog', 12, 'webgpu');
    const failed = await generateOnPage();
    expect(failed, failed).toBeUndefined();
    expect(await h.page.textContent('#prefill-tps')).toMatch(/^\d+(\.\d)? tokens\/s \(\d+ prompt tokens in \d+ ms\)$/);
    expect(await h.page.textContent('#decode-tps')).toMatch(/^\d+(\.\d)? tokens\/s \(\d+ tokens in \d+ ms\)$/);
    // 2:4 + INT4 linears, f32 embeddings and norms: well under the dense f32 size.
    const wb = (await h.page.textContent('#weight-bytes'))!;
    expect(wb).toMatch(/^[\d.]+ kB packed vs 1\.04 MB dense f32 \([\d.]+× smaller; [\d.]+ bits\/weight overall, [\d.]+ in the compressed layers\)$/);
    expect(Number(/([\d.]+)× smaller/.exec(wb)![1])).toBeGreaterThan(1.5);
    // 2:4 + INT4: 2 bits of codes + 1 bit of 2:4 positions per weight, plus per-row scales (and zeros).
    const linears = Number(/([\d.]+) in the compressed layers/.exec(wb)![1]);
    expect(linears).toBeGreaterThan(3);
    expect(linears).toBeLessThan(3.5);
    expect((await h.page.textContent('#output-text'))!.length).toBeGreaterThan(0);

    const png = await h.page.screenshot({ fullPage: true });
    // To look at it: SPARQ_WEB_SCREENSHOT=/tmp/demo.png pnpm test
    if (process.env.SPARQ_WEB_SCREENSHOT) await writeFile(process.env.SPARQ_WEB_SCREENSHOT, png);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // Decode it with the browser's own PNG decoder and count colours: a blank or single-colour page fails.
    const pic = await h.page.evaluate(async (b64) => {
      const blob = await (await fetch(`data:image/png;base64,${b64}`)).blob();
      const bmp = await createImageBitmap(blob);
      const c = new OffscreenCanvas(bmp.width, bmp.height);
      const g = c.getContext('2d')!;
      g.drawImage(bmp, 0, 0);
      const d = g.getImageData(0, 0, bmp.width, bmp.height).data;
      const colours = new Set<number>();
      for (let i = 0; i < d.length; i += 4) colours.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      return { width: bmp.width, height: bmp.height, colours: colours.size };
    }, png.toString('base64'));
    expect(pic.width).toBeGreaterThan(300);
    expect(pic.height).toBeGreaterThan(300);
    expect(pic.colours).toBeGreaterThan(50);
  });

  it('explains a missing container, a wrong file pick, a damaged shard and a browser without WebGPU', async () => {
    await h.page.reload();
    await h.page.fill('#url', '/nothing-here/');
    expect(await generateOnPage()).toMatch(/^E_NOT_FOUND: https:\/\/sparq\.test\/nothing-here\/ is not a sparq container \(no sparq\.json\)/);

    await h.page.reload();
    await h.page.setInputFiles('#files', [{ name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(fixture.files.get('model.safetensors')!) }]);
    await h.page.waitForFunction(() => document.body.dataset.state === 'error');
    expect(await h.page.textContent('#error')).toMatch(/^E_ARG: the 1 selected file\(s\) \(model\.safetensors\) include no sparq\.json/);

    // A damaged shard among otherwise complete files: named, with the safetensors error.
    await h.page.reload();
    const cut = fixture.files.get('model.safetensors')!;
    await h.page.setInputFiles('#files', [...fixture.files].map(([name, b]) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(name === 'model.safetensors' ? b.subarray(0, b.length - 100) : b) })));
    await h.page.waitForFunction(() => document.body.dataset.state === 'error');
    expect(cut.length).toBeGreaterThan(100);
    expect(await h.page.textContent('#error')).toMatch(/^E_SAFETENSORS: model\.safetensors: /);

    // Last: hide navigator.gpu for every later load of this page.
    await h.page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
    await h.page.reload();
    await h.page.fill('#url', '/model/');
    expect(await generateOnPage()).toMatch(/^E_NO_BACKEND: WebGPU is not available in this browser \(navigator\.gpu is undefined\)/);
    expect(h.errors).toEqual([]);
  });
});
