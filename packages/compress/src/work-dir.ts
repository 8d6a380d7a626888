/**
 * The resume folder beside the output (`<out>.sparq-tmp/`): after each
 * completed block, its compressed linears (one safetensors file) and a
 * `state.json` naming how many blocks are done, the run's fingerprint and its
 * calibration token ids. Every file is written atomically (temp + rename), so
 * an interruption at any instant leaves the last completed block readable.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openSafetensors, writeSafetensors } from '@sparq/format';
import { SparqError, type Tensor } from '@sparq/tensor';
import type { CalibrationData } from './calibration';
import { deserializeLinear, serializeLinear, type CompressedLinear } from './compressed-linear';

/** Per-linear results of a run (see {@link CompressReport}). */
export interface LinearReport {
  name: string;
  block: number;
  rows: number;
  cols: number;
  /** Stage summary, e.g. `sparsegpt 2:4 + rtn w4 g32`. */
  method: string;
  /** Pattern as written, when pruned. */
  pattern?: string;
  /** Achieved pruned fraction (mask count / rows·cols), when pruned. */
  sparsity?: number;
  /** Fraction of exact zeros in the final weight (pruning plus quantization zeros). */
  zeroFraction: number;
  /** Exact stored bits per weight of its packed encoding (format accounting; float values in the source dtype). */
  bitsPerWeight: number;
  /** Code bits, when quantized. */
  bits?: number;
  /** Columns per quantization group (cols = per-channel), when quantized. */
  groupSize?: number;
  /**
   * `‖WX − ŴX‖² / ‖WX‖²` over the calibration inputs this layer saw (from H); null when statistics were skipped
   * (`errorStats: 'needed'` with a data-free method).
   */
  relError: number | null;
  /** `‖W − Ŵ‖² / ‖W‖²` (weight space; needs no data). */
  weightRelError: number;
  /** Solver time in seconds (statistics collection excluded). */
  seconds: number;
}

/** What `state.json` holds. */
export interface RunState {
  version: 1;
  fingerprint: string;
  /** Blocks 0 … completedBlocks−1 are done and stored. */
  completedBlocks: number;
  calibration: CalibrationData;
  reports: LinearReport[];
  /** Wall time spent in earlier (interrupted) sessions, seconds. */
  priorSeconds: number;
}

const STATE = 'state.json';
const META_KEY = 'sparq.block';

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Writes `text` to `path` atomically (temp file + rename). */
export async function writeFileAtomic(path: string, text: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new SparqError('E_IO', `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { details: { file: path }, cause: e });
  }
}

/** The resume folder of one output. */
export class WorkDir {
  private constructor(readonly dir: string) {}

  /** The resume folder path of output `out`. */
  static pathFor(out: string): string {
    return `${out.replace(/[\\/]+$/, '')}.sparq-tmp`;
  }

  /**
   * Opens (creating) the resume folder of `out`. With a state whose
   * fingerprint equals `fingerprint` and `resume` on, returns it; a state of
   * a different run is `E_ARG` (resuming it would mix two configurations);
   * with `resume` off any old folder is deleted first.
   */
  static async open(out: string, fingerprint: string, resume: boolean): Promise<{ work: WorkDir; state: RunState | undefined }> {
    const dir = WorkDir.pathFor(out);
    const work = new WorkDir(dir);
    if (!resume) await rm(dir, { recursive: true, force: true });
    let state: RunState | undefined;
    if (await exists(join(dir, STATE))) {
      try {
        state = JSON.parse(await readFile(join(dir, STATE), 'utf8')) as RunState;
      } catch (e) {
        throw new SparqError('E_IO', `cannot read the resume state ${join(dir, STATE)}: ${(e as Error).message}`, {
          details: { file: join(dir, STATE) },
          hint: `delete ${dir} to start over`,
          cause: e,
        });
      }
      if (state.fingerprint !== fingerprint) {
        throw new SparqError('E_ARG', `${dir} holds an interrupted run with different arguments (model, recipe, calibration or backend)`, {
          details: { file: join(dir, STATE), expected: fingerprint, found: state.fingerprint },
          hint: `rerun with the same arguments to resume it, or delete ${dir} (or pass --no-resume) to start over`,
        });
      }
    }
    try {
      await mkdir(join(dir, 'blocks'), { recursive: true });
    } catch (e) {
      throw new SparqError('E_IO', `cannot create ${dir}: ${(e as Error).message}`, { details: { file: dir }, cause: e });
    }
    return { work, state };
  }

  private blockFile(i: number): string {
    return join(this.dir, 'blocks', `block-${String(i).padStart(5, '0')}.safetensors`);
  }

  /** Stores block `i`'s compressed linears (atomic). */
  async writeBlock(i: number, linears: readonly CompressedLinear[]): Promise<void> {
    const tensors: [string, Tensor][] = [];
    const metas: unknown[] = [];
    for (const c of linears) {
      const s = serializeLinear(c);
      tensors.push(...s.tensors);
      metas.push(s.meta);
    }
    await writeSafetensors(this.blockFile(i), tensors, { [META_KEY]: JSON.stringify(metas) });
  }

  /** Reads block `i`'s compressed linears back, bit for bit. */
  async readBlock(i: number): Promise<CompressedLinear[]> {
    const file = this.blockFile(i);
    const f = await openSafetensors(file);
    try {
      const raw = f.metadata[META_KEY];
      if (raw === undefined) throw new SparqError('E_SAFETENSORS', `${file}: missing "${META_KEY}" metadata`, { details: { file }, hint: `delete ${this.dir} to start over` });
      const metas = JSON.parse(raw) as unknown[];
      const out: CompressedLinear[] = [];
      for (const m of metas) out.push(await deserializeLinear(m, (n) => f.read(n), file));
      return out;
    } finally {
      await f.close();
    }
  }

  /** Saves the run state (atomic). */
  async saveState(s: RunState): Promise<void> {
    await writeFileAtomic(join(this.dir, STATE), JSON.stringify(s));
  }

  /** Deletes the whole resume folder. */
  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
