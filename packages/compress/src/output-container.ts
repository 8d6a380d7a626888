/**
 * The sparq container output (@sparq/format's streaming writer): each
 * compressed linear stored in its packed encoding (§2–§6 or bitmask), every
 * other tensor as is, plus config.json, the tokenizer files, the recipe in
 * the manifest and `sparq-compress.json` with the full report.
 */
import { join } from 'node:path';
import { createContainerWriter } from '@sparq/format';
import { Tensor } from '@sparq/tensor';
import { blockCache, orderedNames, type ModelWriter } from './output';
import { packLinear } from './pack';
import { writeFileAtomic } from './work-dir';

/** Tool version recorded in container manifests. */
export const COMPRESS_TOOL_VERSION = '@sparq/compress 0.1.0';

/** Writes the sparq container (packed weights; `sparq eval` / `loadModel` read it). */
export const sparqContainerWriter: ModelWriter = {
  kind: 'sparq-container',
  async write(job) {
    const report = job.report as { recipe?: unknown; calibration?: unknown };
    const w = await createContainerWriter(job.dir, {
      architecture: job.config,
      tokenizerFiles: job.tokenizerFiles,
      recipe: { recipe: report.recipe, calibration: report.calibration },
      toolVersion: COMPRESS_TOOL_VERSION,
    });
    try {
      const names = orderedNames(job.source);
      const get = blockCache(job);
      let done = 0;
      for (const name of names) {
        if (job.compressed.has(name)) {
          const c = await get(name);
          const packed = packLinear(c);
          if (packed) await w.addPacked(name, packed, { method: c.method, source: name, valueDtype: c.valueDtype });
          else await w.addTensor(name, new Tensor('f32', [c.rows, c.cols], c.weight));
        } else {
          await w.addTensor(name, await job.source.read(name));
        }
        job.onProgress?.({ done: ++done, total: names.length });
      }
      await w.finish();
    } catch (e) {
      await w.abort();
      throw e;
    }
    await writeFileAtomic(join(job.dir, 'sparq-compress.json'), `${JSON.stringify(job.report, null, 2)}\n`);
  },
};
