/** Test helper: runs the CLI in-process with captured streams. */
import { runCli } from '../src/cli';
import type { Io } from '../src/output';

/** `sparq <argv…>` in-process: exit code, stdout and stderr. */
export async function sparq(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTty: false };
  const code = await runCli(argv, io);
  return { code, out, err };
}

/**
 * Runs `fn` with `set(value)` changing environment variable `name` (undefined deletes it), then restores the
 * variable as it was, whatever `fn` did.
 */
export async function withEnv<T>(name: string, fn: (set: (value: string | undefined) => void) => Promise<T>): Promise<T> {
  const saved = process.env[name];
  const set = (value: string | undefined): void => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  try {
    return await fn(set);
  } finally {
    set(saved);
  }
}
