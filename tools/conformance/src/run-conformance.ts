/**
 * `runConformance`: registers one vitest test per generated case. Each compares
 * the backend with the reference kernel; cases the backend declares
 * unsupported are collected and printed in a summary, never silently skipped.
 */
import {
  decodePacked,
  matmulDenseRef,
  matmulPackedRef,
  referenceKernels,
  type Backend,
  type KernelAttrs,
  type KernelInputs,
} from '@sparq/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMatmulDenseCases, type CaseOptions } from './cases';
import {
  compareF32,
  comparePacked,
  F32_MAX_ABS_PER_SQRT_K,
  F32_MAX_NMSE,
  F32_REL_PER_ELEMENT,
  INT8_ACT_MAX_NMSE,
  INT8_ACT_REL_PER_ELEMENT,
  MODEL_MAX_NMSE,
} from './metrics';
import { generateModelCases, type ModelKernelCase } from './model-cases';
import { generatePackedCases, type PackedMatmulCase } from './packed-cases';

/** Tolerances of one compressed kernel: NMSE and per-element error relative to ‖a_i‖·‖w_j‖. */
export interface PackedTolerance {
  nmse: number;
  rel: number;
}

/**
 * Tolerance per compressed kernel. `matmulNM` is f32 throughout (as tight as
 * dense); the others may quantize activations to int8 (see `KernelSpecs`).
 */
export const PACKED_TOLERANCE: Record<PackedMatmulCase['kernel'], PackedTolerance> = {
  matmulNM: { nmse: F32_MAX_NMSE, rel: F32_REL_PER_ELEMENT },
  matmulQuant: { nmse: INT8_ACT_MAX_NMSE, rel: INT8_ACT_REL_PER_ELEMENT + F32_REL_PER_ELEMENT },
  matmulNMQuant: { nmse: INT8_ACT_MAX_NMSE, rel: INT8_ACT_REL_PER_ELEMENT + F32_REL_PER_ELEMENT },
  matmulSpqr: { nmse: INT8_ACT_MAX_NMSE, rel: INT8_ACT_REL_PER_ELEMENT + F32_REL_PER_ELEMENT },
};

/** Options of {@link runConformance}. */
export interface ConformanceOptions extends CaseOptions {
  /** When it returns a string (the reason), the whole suite is skipped with that reason printed. */
  skipUnless?: () => true | string;
  /** Suite title (default: `conformance`). */
  title?: string;
  /** Where the summary goes (default `console.log`). */
  log?: (line: string) => void;
  /** Run the compressed-kernel cases too (default true). */
  packed?: boolean;
  /**
   * Run the cases of the optional model kernels (`rmsNorm`, `rope`,
   * `attention`, `siluMul`; `MODEL_KERNELS` in @sparq/tensor) too. Default
   * false, so backends that predate them keep their lists; a backend that
   * implements any of them turns this on (and lists the ones it lacks).
   */
  modelKernels?: boolean;
  /**
   * Cases this backend is expected NOT to support, matched against the case
   * name (a string matches as a prefix, e.g. `'matmulSpqr'`). When given, an
   * unsupported case outside the list fails, and so does a listed case that
   * turns out supported. When omitted, unsupported cases are only reported.
   */
  expectUnsupported?: readonly (string | RegExp)[];
}

function listed(name: string, list: readonly (string | RegExp)[]): boolean {
  return list.some((p) => (typeof p === 'string' ? name.startsWith(p) : p.test(name)));
}

/**
 * Runs the conformance suite against a fresh backend from `createBackend`
 * (created and initialised once, disposed after the suite). Call it at the top
 * level of a `*.test.ts` file.
 * @example
 * runConformance(() => createCpuWasmBackend({ threads: 2 }), { expectUnsupported: [] });
 * // A backend without compressed kernels yet lists them, so that gaining one is noticed too:
 * runConformance(() => createFpgaSimBackend(), { expectUnsupported: ['matmulNM ', 'matmulNMQuant', 'matmulSpqr'] });
 */
export function runConformance(createBackend: () => Backend, opts: ConformanceOptions = {}): void {
  const cases = generateMatmulDenseCases(opts);
  const packedCases = opts.packed === false ? [] : generatePackedCases();
  const modelCases: ModelKernelCase[] = opts.modelKernels ? generateModelCases() : [];
  const expected = opts.expectUnsupported;
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
        `conformance [${backend?.name}]: ${passed} passed, ${unsupported.length} unsupported of ${cases.length + packedCases.length + modelCases.length} cases` +
          unsupported.map((u) => `\n  unsupported: ${u}`).join('') +
          (expected ? `\n  expected-unsupported list: ${expected.length ? expected.map(String).join(', ') : '(empty)'}` : ''),
      );
      await backend?.dispose();
    });
    for (const c of cases) {
      it(c.name, async () => {
        const ok = backend.supports(c.kernel, c.inputs, c.attrs);
        if (expected) expect(ok !== true, `${c.name}: supported vs. expected-unsupported list (${String(ok)})`).toBe(listed(c.name, expected));
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
    for (const c of packedCases) {
      it(c.name, async () => {
        const inputs = { a: c.a, w: c.w } as never;
        const ok = backend.supports(c.kernel, inputs, {});
        if (expected) expect(ok !== true, `${c.name}: supported vs. expected-unsupported list (${String(ok)})`).toBe(listed(c.name, expected));
        if (ok !== true) {
          unsupported.push(`${c.name}: ${ok}`);
          return;
        }
        const out = await backend.run(c.kernel, inputs, {});
        expect(out.dtype).toBe('f32');
        expect([...out.shape]).toEqual([c.m, c.n]);
        const ref = matmulPackedRef(c.a, c.w);
        const tol = PACKED_TOLERANCE[c.kernel];
        const { nmse, maxRel } = comparePacked(out.data, ref.data, c.a.data, decodePacked(c.w), c.m, c.n, c.k);
        expect(nmse, `${c.name}: normalised MSE`).toBeLessThanOrEqual(tol.nmse);
        expect(maxRel, `${c.name}: max error / (‖a_i‖·‖w_j‖)`).toBeLessThanOrEqual(tol.rel);
        passed++;
      });
    }
    for (const c of modelCases) {
      it(c.name, async () => {
        // The union `ModelKernelCase` pairs each kernel with its own inputs; the
        // Backend methods are generic in K, so widen once here.
        const { kernel, inputs, attrs } = c as { kernel: 'rmsNorm'; inputs: KernelInputs<'rmsNorm'>; attrs: KernelAttrs<'rmsNorm'> };
        const ok = backend.supports(kernel, inputs, attrs);
        if (expected) expect(ok !== true, `${c.name}: supported vs. expected-unsupported list (${String(ok)})`).toBe(listed(c.name, expected));
        if (ok !== true) {
          unsupported.push(`${c.name}: ${ok}`);
          return;
        }
        const out = await backend.run(kernel, inputs, attrs);
        const ref = await referenceKernels[kernel]!.run(inputs, attrs, null);
        expect(out.dtype).toBe('f32');
        expect([...out.shape]).toEqual([...ref.shape]);
        const { nmse } = compareF32(out.data, ref.data);
        expect(nmse, `${c.name}: normalised MSE`).toBeLessThanOrEqual(MODEL_MAX_NMSE);
        passed++;
      });
    }
  });
  if (skip !== true) log(`conformance skipped: ${skip}`);
}
