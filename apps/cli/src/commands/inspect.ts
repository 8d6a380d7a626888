/** `sparq inspect <model>`: architecture, parameter count, per-tensor shapes and dtypes. */
import { defineCommand } from 'citty';
import { BITS_ROLES, accountDense, accountModel, isSparqContainer, openSparqContainer, type ModelAccounting } from '@sparq/format';
import { inspectModel, resolveModelPath } from '@sparq/lm';
import { outputArgs } from '../options';
import { type Io, printResult } from '../output';

const args = {
  model: { type: 'positional', description: 'model folder, llama2.c .bin, known name (stories260K) or Hub id', required: true },
  offline: { type: 'boolean', description: 'never use the network' },
  ...outputArgs,
} as const;

/** Builds the command (the Io is injected for tests). */
export function inspectCommand(io: Io) {
  return defineCommand({
    meta: { name: 'inspect', description: 'show architecture, parameter count and every tensor of a model' },
    args,
    async run({ args: a }) {
      const { path } = await resolveModelPath(a.model, a.offline ? { offline: true } : {});
      const info = await inspectModel(path);
      const accounting = await modelAccounting(path, info.tensors);
      // The JSON field names are a public interface (issue #2): `parameters`, not the library's `parameterCount`.
      const result = {
        model: path,
        architecture: info.architecture,
        parameters: info.parameterCount,
        config: info.config,
        source: info.source,
        tensors: info.tensors,
        accounting: accountingJson(accounting),
      };
      printResult(io, Boolean(a.json), result, () => {
        const lines = [
          `model:        ${path}`,
          `architecture: ${info.architecture}`,
          `parameters:   ${info.parameterCount.toLocaleString('en-US')}`,
          `tensors:      ${info.tensors.length}`,
          '',
        ];
        const w = Math.max(...info.tensors.map((t) => t.name.length), 4);
        lines.push(`${'name'.padEnd(w)}  ${'dtype'.padEnd(5)}  shape`);
        for (const t of info.tensors) lines.push(`${t.name.padEnd(w)}  ${t.dtype.padEnd(5)}  [${t.shape.join(', ')}]`);
        lines.push('', ...accountingTable(accounting));
        return lines.join('\n');
      });
    },
  });
}

// ----------------------------------------------------------- accounting

/**
 * Exact stored bits per weight: from the container's component tensors for a
 * sparq container (docs/format.md §8), else every tensor counts as dense in its
 * stored dtype.
 */
async function modelAccounting(path: string, tensors: readonly { name: string; shape: readonly number[]; dtype: Parameters<typeof accountDense>[2] }[]): Promise<ModelAccounting> {
  if (await isSparqContainer(path)) {
    const c = await openSparqContainer(path);
    try {
      return c.accounting();
    } finally {
      await c.close();
    }
  }
  return accountModel(tensors.map((t) => accountDense(t.name, t.shape, t.dtype)));
}

/** The `accounting` field of `--json` (bits per weight overall, per role and per weight). */
function accountingJson(a: ModelAccounting) {
  const perRole = Object.fromEntries(BITS_ROLES.map((r) => [r, a.params === 0 ? 0 : a.bits[r] / a.params]));
  return {
    parameters: a.params,
    totalBits: a.totalBits,
    bitsPerWeight: a.bitsPerWeight,
    compressedBitsPerWeight: a.compressedBitsPerWeight,
    bitsPerWeightByRole: perRole,
    weights: a.weights.map((w) => ({
      name: w.name,
      kind: w.kind,
      parameters: w.params,
      bitsPerWeight: w.bitsPerWeight,
      bitsPerWeightByRole: Object.fromEntries(BITS_ROLES.map((r) => [r, w.params === 0 ? 0 : w.bits[r] / w.params])),
    })),
  };
}

/** Human table: one line per weight with its bits per weight split by role, then the totals. */
function accountingTable(a: ModelAccounting): string[] {
  const f = (x: number) => x.toFixed(4).padStart(8);
  const w = Math.max(...a.weights.map((x) => x.name.length), 'total'.length, 6);
  const head = `${'weight'.padEnd(w)}  ${'kind'.padEnd(8)}  ${'bits/w'.padStart(8)}  ${BITS_ROLES.map((r) => r.padStart(8)).join('  ')}`;
  const rows = a.weights.map((x) => `${x.name.padEnd(w)}  ${x.kind.padEnd(8)}  ${f(x.bitsPerWeight)}  ${BITS_ROLES.map((r) => f(x.params === 0 ? 0 : x.bits[r] / x.params)).join('  ')}`);
  const total = `${'total'.padEnd(w)}  ${''.padEnd(8)}  ${f(a.bitsPerWeight)}  ${BITS_ROLES.map((r) => f(a.params === 0 ? 0 : a.bits[r] / a.params)).join('  ')}`;
  return [
    `storage: ${a.bitsPerWeight.toFixed(4)} bits/weight overall${a.compressedBitsPerWeight > 0 ? `, ${a.compressedBitsPerWeight.toFixed(4)} over compressed weights` : ''} (${(a.totalBits / 8).toLocaleString('en-US')} bytes)`,
    head,
    ...rows,
    total,
  ];
}

/** The args table, for the CLI reference and the strict flag check. */
export const inspectArgs = args;
