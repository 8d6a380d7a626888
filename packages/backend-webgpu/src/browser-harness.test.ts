/**
 * The shared browser harness (`launchWebGpuPage` in @sparq/test-utils) as this
 * package's tests use it: an https origin with WebGPU, in-memory files, 404s.
 */
import { launchWebGpuPage, webGpuAdapterInfo } from '@sparq/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('launchWebGpuPage', () => {
  let h: Awaited<ReturnType<typeof launchWebGpuPage>>;
  beforeAll(async () => {
    h = await launchWebGpuPage({ files: { '/data.txt': 'hello', '/bytes.bin': new Uint8Array([1, 2, 255]) } });
  });
  afterAll(async () => h?.close());

  it('serves a secure page where WebGPU has an adapter', async () => {
    expect(h.page.url()).toBe('https://sparq.test/index.html');
    const info = await webGpuAdapterInfo(h.page);
    expect(info, JSON.stringify(info)).toMatchObject({ ok: true });
  });

  it('serves in-memory text and bytes and answers 404 otherwise', async () => {
    const got = await h.page.evaluate(async () => {
      const t = await (await fetch('/data.txt')).text();
      const b = [...new Uint8Array(await (await fetch('/bytes.bin')).arrayBuffer())];
      const missing = (await fetch('/nope.js')).status;
      return { t, b, missing };
    });
    expect(got).toEqual({ t: 'hello', b: [1, 2, 255], missing: 404 });
    expect(h.errors).toEqual([]);
  });
});

describe('launchWebGpuPage without Chromium', () => {
  it('fails loudly with what to install when the binary is missing', async () => {
    const saved = process.env.SPARQ_CHROMIUM;
    process.env.SPARQ_CHROMIUM = '/nonexistent/chromium';
    try {
      await expect(launchWebGpuPage()).rejects.toThrow(/Chromium not found at \/nonexistent\/chromium.*apt-get install -y chromium.*SPARQ_CHROMIUM/);
    } finally {
      if (saved === undefined) delete process.env.SPARQ_CHROMIUM;
      else process.env.SPARQ_CHROMIUM = saved;
    }
  });
});
