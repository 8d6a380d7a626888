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
