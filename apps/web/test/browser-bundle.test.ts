// The `browser` export condition of @sparq/format and @sparq/lm: bundling every export of both for a browser must
// succeed with no Node built-in left in the output (esbuild fails on a node:* import for platform "browser"), and the
// Node entries must keep their Node-only APIs.
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

async function bundle(contents: string, conditions: string[]): Promise<string> {
  const res = await build({
    // A JavaScript importer: esbuild checks its named imports strictly (a TypeScript one could be a type import).
    stdin: { contents, resolveDir: import.meta.dirname, loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    conditions,
    write: false,
    logLevel: 'silent',
    metafile: true,
  });
  return res.outputFiles[0]!.text;
}

describe('browser entries', () => {
  for (const [label, conditions] of [['TypeScript sources', ['@sparq/source']], ['built dist', []]] as const) {
    it(`every export of @sparq/format and @sparq/lm bundles for a browser (${label})`, async () => {
      const js = await bundle("export * from '@sparq/format'; export * as lm from '@sparq/lm';", [...conditions]);
      expect(js).not.toMatch(/from\s*["']node:/);
      expect(js).not.toMatch(/require\(["']node:/);
      // The browser API is there…
      for (const name of ['openSparqContainerFrom', 'blobSource', 'fetchSourceSet', 'loadModelFrom', 'loadTokenizerFrom', 'CausalLM']) expect(js).toContain(name);
    });
  }

  it('a Node-only export is a build error in a browser bundle, not a runtime surprise', async () => {
    await expect(bundle("import { openSparqContainer } from '@sparq/format'; console.log(openSparqContainer);", ['@sparq/source'])).rejects.toThrow(/No matching export .* "openSparqContainer"/);
    await expect(bundle("import { loadModel } from '@sparq/lm'; console.log(loadModel);", ['@sparq/source'])).rejects.toThrow(/No matching export .* "loadModel"/);
  });

  it('the Node entries still offer the file-system loaders', async () => {
    const format = await import('@sparq/format');
    const lm = await import('@sparq/lm');
    expect(typeof format.openSparqContainer).toBe('function');
    expect(typeof format.openSafetensors).toBe('function');
    expect(typeof format.openSparqContainerFrom).toBe('function');
    expect(typeof lm.loadModel).toBe('function');
    expect(typeof lm.loadLlama2cTokenizer).toBe('function');
    expect(typeof lm.loadModelFrom).toBe('function');
  });
});
