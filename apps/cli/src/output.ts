/**
 * Where output goes: results on stdout (human text or `--json`), progress and
 * notes on stderr, so `sparq eval … --json | jq` always sees clean JSON.
 */
import { SparqError, isSparqError } from '@sparq/tensor';

/** The streams a command writes to (injectable for tests). */
export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** True when stderr is an interactive terminal (progress redraws in place). */
  isTty: boolean;
}

/** The process's real streams. */
export const processIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  isTty: Boolean(process.stderr.isTTY),
};

/** Prints a result: pretty JSON with `--json`, otherwise the human text. */
export function printResult(io: Io, json: boolean, value: unknown, human: () => string): void {
  io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/**
 * A progress reporter on stderr with rate and ETA. On a terminal it redraws one
 * line; otherwise it prints at most one line per ~2 s (logs stay readable).
 */
export function createProgress(io: Io, label: string, unit = 'it'): (p: { done: number; total: number }) => void {
  const start = performance.now();
  let lastPrint = 0;
  return ({ done, total }) => {
    const now = performance.now();
    const finished = done >= total;
    if (!finished && now - lastPrint < (io.isTty ? 100 : 2000)) return;
    lastPrint = now;
    const secs = (now - start) / 1000;
    const rate = done / Math.max(secs, 1e-9);
    const eta = finished ? 0 : (total - done) / Math.max(rate, 1e-9);
    const pct = total > 0 ? ((100 * done) / total).toFixed(0) : '100';
    const line = `${label} ${done}/${total} ${unit} (${pct}%) · ${rate.toFixed(1)} ${unit}/s · ${finished ? `done in ${fmtSeconds(secs)}` : `ETA ${fmtSeconds(eta)}`}`;
    if (io.isTty) io.stderr(`\r\x1b[2K${line}${finished ? '\n' : ''}`);
    else io.stderr(`${line}\n`);
  };
}

/**
 * Formats an error for the terminal: `error[CODE]: message` plus the hint,
 * the stack only with `--verbose`. Returns the exit code: 1 for user/input
 * errors (a SparqError other than E_INTERNAL), 2 for internal errors.
 */
export function reportError(io: Io, e: unknown, verbose: boolean): number {
  if (isSparqError(e)) {
    io.stderr(`error[${e.code}]: ${e.message}\n`);
    if (e.hint) io.stderr(`  hint: ${e.hint}\n`);
    if (verbose && e.stack) io.stderr(`${e.stack}\n`);
    if (verbose && e.cause) io.stderr(`caused by: ${e.cause instanceof Error ? e.cause.stack : String(e.cause)}\n`);
    return e.code === 'E_INTERNAL' ? 2 : 1;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  // citty's own usage errors (unknown command, missing positional) are user errors.
  const code = (err as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('E_') && !(err instanceof SparqError)) {
    io.stderr(`error[E_ARG]: ${err.message.replace(/\x1b\[[0-9;]*m/g, '')}\n  hint: see sparq --help\n`);
    return 1;
  }
  io.stderr(`error[E_INTERNAL]: ${err.message}\n  hint: this is a bug in sparq; please report it with the output of --verbose\n`);
  if (verbose && err.stack) io.stderr(`${err.stack}\n`);
  return 2;
}
