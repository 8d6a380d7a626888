/**
 * Maps Node fs errors to sparq error codes, so every file failure reaches the
 * user as `E_NOT_FOUND` or `E_IO` with the path in the message.
 */
import { SparqError, isSparqError } from '@sparq/tensor';

/** Wraps a Node fs error as `E_NOT_FOUND` (missing file) or `E_IO` (anything else). */
export function ioError(cause: unknown, file: string, doing: string): SparqError {
  if (isSparqError(cause)) return cause;
  const code = (cause as NodeJS.ErrnoException)?.code;
  const reason = (cause as Error)?.message ?? String(cause);
  return new SparqError(code === 'ENOENT' ? 'E_NOT_FOUND' : 'E_IO', `${file}: cannot ${doing}: ${reason}`, {
    details: { file },
    cause,
  });
}
