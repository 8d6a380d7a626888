/**
 * Worker thread of `sparq plan --workers N`: holds its own model (cpu-wasm,
 * one thread) and levels-database reader, and scores candidate plans with
 * the planner's KL fitness, one request at a time, in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createCpuWasmBackend } from '@sparq/backend-cpu-wasm';
import { loadModel } from '@sparq/lm';
import { KlFitness, LevelDatabase, type SelectionStage } from '@sparq/planner';

/** What the pool sends when it starts a worker. */
export interface FitnessWorkerData {
  modelPath: string;
  tokenizer?: string;
  db: string;
  sequences: number[][];
  metric: 'kl' | 'nll';
}

/** One scoring request and its answer. */
export interface FitnessRequest {
  id: number;
  assignment: number[];
  stage: SelectionStage;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('fitness-worker must run as a worker thread');
  const d = workerData as FitnessWorkerData;
  const backend = createCpuWasmBackend({ threads: 1 });
  await backend.init();
  const { model } = await loadModel(d.modelPath, { backend, ...(d.tokenizer ? { tokenizer: d.tokenizer } : {}) });
  const db = await LevelDatabase.load(d.db, model);
  const kl = await KlFitness.create(model, db, d.sequences, d.metric);
  // Requests are chained: KlFitness swaps weights into one model, so evaluations must not interleave.
  let chain = Promise.resolve();
  port.on('message', (req: FitnessRequest | 'close') => {
    if (req === 'close') {
      chain = chain.then(async () => {
        await db.close();
        await model.dispose();
        await backend.dispose();
        port.close();
      });
      return;
    }
    chain = chain.then(async () => {
      try {
        port.postMessage({ id: req.id, fitness: await kl.evaluate(Int32Array.from(req.assignment), req.stage) });
      } catch (e) {
        port.postMessage({ id: req.id, error: (e as Error).message });
      }
    });
  });
  port.postMessage({ ready: true });
}

main().catch((e: unknown) => {
  parentPort?.postMessage({ fatal: (e as Error).message });
});
