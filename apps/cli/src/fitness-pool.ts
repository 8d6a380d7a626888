/**
 * `sparq plan --workers N`: the planner's fitness spread over worker threads.
 * Each worker (dist/fitness-worker.js) loads the model and the levels
 * database itself; candidates of a selection stage are dealt round-robin and
 * the results gathered in order, so the search is identical to a sequential
 * one, only faster.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FitnessFactory } from '@sparq/planner';
import { SparqError } from '@sparq/tensor';

/** The built worker script (beside the CLI's dist files; tests running from src use the build). */
function workerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, 'fitness-worker.js'), join(here, '..', 'dist', 'fitness-worker.js')]) if (existsSync(p)) return p;
  throw new SparqError('E_INTERNAL', 'fitness-worker.js not found beside the CLI: run pnpm build');
}

/** A {@link FitnessFactory} running `workers` threads over `modelPath`. */
export function workerFitness(workers: number, modelPath: string, tokenizer: string | undefined): FitnessFactory {
  return async ({ db, sequences, metric }) => {
    const script = workerScript();
    const pending = new Map<number, { resolve(f: number): void; reject(e: Error): void }>();
    let nextId = 0;
    const pool = await Promise.all(
      Array.from({ length: workers }, () =>
        new Promise<Worker>((resolve, reject) => {
          // execArgv: [] so the worker resolves workspace packages to their built dist even when the parent runs with
          // source conditions (as the tests do).
          const w = new Worker(script, { workerData: { modelPath, tokenizer, db, sequences, metric }, execArgv: [] });
          w.on('message', (m: { ready?: true; fatal?: string; id?: number; fitness?: number; error?: string }) => {
            if (m.ready) resolve(w);
            else if (m.fatal) reject(new SparqError('E_INTERNAL', `fitness worker failed to start: ${m.fatal}`));
            else if (m.id !== undefined) {
              const p = pending.get(m.id)!;
              pending.delete(m.id);
              if (m.error !== undefined) p.reject(new SparqError('E_INTERNAL', `fitness worker: ${m.error}`));
              else p.resolve(m.fitness!);
            }
          });
          w.on('error', reject);
        }),
      ),
    );
    let turn = 0;
    return {
      fn: (cands, stage) =>
        Promise.all(
          cands.map(
            (a) =>
              new Promise<number>((resolve, reject) => {
                const id = nextId++;
                pending.set(id, { resolve, reject });
                pool[turn++ % pool.length]!.postMessage({ id, assignment: Array.from(a), stage });
              }),
          ),
        ),
      close: async () => {
        await Promise.all(pool.map((w) => new Promise<void>((res) => {
          w.once('exit', () => res());
          w.postMessage('close');
        })));
      },
    };
  };
}
