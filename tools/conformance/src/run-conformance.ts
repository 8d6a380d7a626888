/**
 * `runConformance`: registers one vitest test per generated case. Each compares
 * the backend with the reference kernel; cases the backend declares
 * unsupported are collected and printed in a summary, never silently skipped.
 */
import { matmulDenseRef, type Backend } from '@sparq/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMatmulDenseCases, type CaseOptions } from './cases';
import { compareF32, F32_MAX_ABS_PER_SQRT_K, F32_MAX_NMSE } from './metrics';

/** Options of {@link runConformance}. */
export interface ConformanceOptions extends CaseOptions {
  /** When it returns a string (the reason), the whole suite is skipped with that reason printed. */
  skipUnless?: () => true | string;
  /** Suite title (default: `conformance`). */
  title?: string;
  /** Where the summary goes (default `console.log`). */
  log?: (line: string) => void;
}

/**
 * Runs the conformance suite against a fresh backend from `createBackend`
 * (created and initialised once, disposed after the suite). Call it at the top
 * level of a `*.test.ts` file.
 * @example
 * runConformance(() => createCpuWasmBackend({ threads: 2 }));
 */
export function runConformance(createBackend: () => Backend, opts: ConformanceOptions = {}): void {
  const cases = generateMatmulDenseCases(opts);
  const skip = opts.skipUnless?.() ?? true;
  const log = opts.log ?? ((line: string) => console.log(line));
  describe.skipIf(skip !== true)(opts.title ?? 'conformance', () => {
    let backend: Backend;
    const unsupported: string[] = [];
    let passed = 0;
    beforeAll(async () => {
      backend = createBackend();
      await backend.init();
    });
    afterAll(async () => {
      log(
        `conformance [${backend?.name}]: ${passed} passed, ${unsupported.length} unsupported of ${cases.length} cases` +
          unsupported.map((u) => `\n  unsupported: ${u}`).join(''),
      );
      await backend?.dispose();
    });
    for (const c of cases) {
      it(c.name, async () => {
        const ok = backend.supports(c.kernel, c.inputs, c.attrs);
        if (ok !== true) {
          unsupported.push(`${c.name}: ${ok}`);
          return;
        }
        const out = await backend.run(c.kernel, c.inputs, c.attrs);
        expect(out.dtype).toBe('f32');
        expect([...out.shape]).toEqual([c.m, c.n]);
        const ref = matmulDenseRef(c.inputs, c.attrs);
        const { nmse, maxAbs } = compareF32(out.data, ref.data);
        expect(nmse, `${c.name}: normalised MSE`).toBeLessThanOrEqual(F32_MAX_NMSE);
        expect(maxAbs, `${c.name}: max abs error`).toBeLessThanOrEqual(F32_MAX_ABS_PER_SQRT_K * Math.sqrt(Math.max(c.k, 1)));
        passed++;
      });
    }
  });
  if (skip !== true) log(`conformance skipped: ${skip}`);
}
