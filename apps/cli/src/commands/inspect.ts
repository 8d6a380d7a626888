/** `sparq inspect <model>`: architecture, parameter count, per-tensor shapes and dtypes. */
import { defineCommand } from 'citty';
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
      // The JSON field names are a public interface (issue #2): `parameters`, not the library's `parameterCount`.
      const result = {
        model: path,
        architecture: info.architecture,
        parameters: info.parameterCount,
        config: info.config,
        source: info.source,
        tensors: info.tensors,
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
        return lines.join('\n');
      });
    },
  });
}

/** The args table, for the CLI reference and the strict flag check. */
export const inspectArgs = args;
