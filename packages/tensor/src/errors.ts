/**
 * The one error type of sparq. Every failure a user can cause (bad file, bad
 * shape, bad flag) is a `SparqError` with a stable `code`; the CLI prints it as
 * `error[CODE]: message` without a stack.
 */

/** Closed set of error codes. Each line says when it is raised. */
export const ERROR_CODES = {
  /** A file or folder could not be read or written (missing, permission, disk). */
  E_IO: 'E_IO',
  /** A named model, tensor, file or resource does not exist. */
  E_NOT_FOUND: 'E_NOT_FOUND',
  /** A safetensors file is malformed (header, offsets, sizes, dtype, truncation). */
  E_SAFETENSORS: 'E_SAFETENSORS',
  /** A llama2.c checkpoint or tokenizer file is malformed. */
  E_CHECKPOINT: 'E_CHECKPOINT',
  /** Tensor shapes do not agree with what an operation or a config expects. */
  E_SHAPE_MISMATCH: 'E_SHAPE_MISMATCH',
  /** A dtype is unknown or not allowed here. */
  E_DTYPE: 'E_DTYPE',
  /** A matrix that must be symmetric positive definite is not (Cholesky failed). */
  E_NOT_POSITIVE_DEFINITE: 'E_NOT_POSITIVE_DEFINITE',
  /** A backend does not implement a kernel for these inputs. */
  E_KERNEL_UNSUPPORTED: 'E_KERNEL_UNSUPPORTED',
  /** No backend could be initialised. */
  E_NO_BACKEND: 'E_NO_BACKEND',
  /** A model config is missing fields or names an unsupported architecture/option. */
  E_CONFIG: 'E_CONFIG',
  /** A tokenizer file is malformed or cannot encode/decode the input. */
  E_TOKENIZER: 'E_TOKENIZER',
  /** A command-line argument or API option is invalid. */
  E_ARG: 'E_ARG',
  /** A network download failed, or the network is needed while offline mode is on. */
  E_NETWORK: 'E_NETWORK',
  /** A container declares a format version this reader does not support. */
  E_FORMAT_VERSION: 'E_FORMAT_VERSION',
  /** A stored checksum does not match the data. */
  E_CHECKSUM: 'E_CHECKSUM',
  /** A sparq container's manifest or per-weight metadata is malformed or contradicts its stored tensors. */
  E_CONTAINER: 'E_CONTAINER',
  /** A bug in sparq: an invariant was violated. Please report it. */
  E_INTERNAL: 'E_INTERNAL',
} as const;

/** A sparq error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Where an error happened and what was expected; every field optional. */
export interface ErrorDetails {
  file?: string;
  tensor?: string;
  layer?: string | number;
  expected?: unknown;
  found?: unknown;
}

const BRAND = Symbol.for('sparq:error');

/** Options of {@link SparqError} beyond code and message. */
export interface SparqErrorOptions {
  details?: ErrorDetails;
  /** A short suggestion of what to do, printed after the message. */
  hint?: string;
  cause?: unknown;
}

/**
 * The single error class of sparq.
 * @example
 * throw new SparqError('E_SHAPE_MISMATCH', 'tensor "wq" in model.safetensors: expected [64, 64], found [64, 32]');
 */
export class SparqError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Structured context (file, tensor, expected vs. found). */
  readonly details: ErrorDetails;
  /** What the user can do about it. */
  readonly hint: string | undefined;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options: SparqErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SparqError';
    this.code = code;
    this.details = options.details ?? {};
    this.hint = options.hint;
  }
}

/** True when `e` is a {@link SparqError}, also across duplicate package copies. */
export function isSparqError(e: unknown): e is SparqError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/** Throws `E_INTERNAL` unless `cond` holds; for invariants, not user input. */
export function invariant(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new SparqError('E_INTERNAL', typeof message === 'string' ? message : message());
}
