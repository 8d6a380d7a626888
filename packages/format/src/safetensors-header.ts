/**
 * The safetensors header codec: parsing and validating a header read from a
 * file, and encoding a header for the writer. Pure functions over bytes, so the
 * reader, the multi-file view and the writer share one definition of the format.
 *
 * Format: 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {k: v}}`,
 * then the data section; offsets are relative to the data section start.
 * Validation follows the reference implementation (huggingface/safetensors
 * `safetensors/src/tensor.rs`, `Metadata::validate` and `read_metadata`): sorted
 * by offsets, the tensors must tile the data section exactly.
 */
import {
  DTYPES,
  SparqError,
  dtypeBytes,
  dtypeToSafetensors,
  type DType,
  type ErrorDetails,
} from '@sparq/tensor';

/** Largest header accepted, in bytes (same limit as the reference reader). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Size of the little-endian u64 header-length prefix. */
export const HEADER_PREFIX_BYTES = 8;

/** Reserved header key holding the string → string metadata. */
export const METADATA_KEY = '__metadata__';

/** Where one tensor lives in a safetensors file. */
export interface TensorInfo {
  /** Tensor name as stored in the header. */
  name: string;
  /** Element type. */
  dtype: DType;
  /** Dimensions, outermost first (`[]` for a scalar). */
  shape: readonly number[];
  /** Absolute byte offset of the tensor's data in the file. */
  byteOffset: number;
  /** Number of data bytes (numel × dtype size). */
  byteLength: number;
  /** Path of the file holding the tensor. */
  file: string;
}

/** A parsed and validated header. */
export interface ParsedHeader {
  /** Tensors in the order the header lists them. */
  tensors: TensorInfo[];
  /** The `__metadata__` map (empty when absent). */
  metadata: Record<string, string>;
  /** Absolute file offset of the data section (8 + N). */
  dataStart: number;
}

/** Supported safetensors dtype strings, for messages. */
const SUPPORTED = Object.values(DTYPES).map((d) => d.safetensors);
const FROM_SAFETENSORS = new Map<string, DType>(
  Object.entries(DTYPES).map(([k, v]) => [v.safetensors, k as DType]),
);

/** Builds an `E_SAFETENSORS` error naming the file (and tensor, when given). */
function bad(file: string, message: string, details: Omit<ErrorDetails, 'file'> = {}, hint?: string): SparqError {
  const where = details.tensor === undefined ? file : `tensor "${details.tensor}" in ${file}`;
  return new SparqError('E_SAFETENSORS', `${where}: ${message}`, {
    details: { file, ...details },
    hint: hint ?? 'the file is not a valid safetensors file; re-export or re-download it',
  });
}

/**
 * Decodes the 8-byte length prefix and checks it against the limits and the
 * file size. Returns the header length N.
 */
export function parseHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < HEADER_PREFIX_BYTES) {
    throw bad(file, `file is ${fileSize} bytes, shorter than the 8-byte header length`, {
      expected: '>= 8 bytes',
      found: fileSize,
    });
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, HEADER_PREFIX_BYTES).getBigUint64(0, true);
  // Too large is checked first, as in the reference reader, so a garbage
  // prefix on a small file reports the more telling of the two errors.
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw bad(file, `header length ${n} is larger than the ${MAX_HEADER_BYTES}-byte limit`, {
      expected: `<= ${MAX_HEADER_BYTES}`,
      found: n.toString(),
    });
  }
  const len = Number(n);
  if (HEADER_PREFIX_BYTES + len > fileSize) {
    throw bad(file, `header length ${len} runs past the end of the file (${fileSize} bytes)`, {
      expected: `<= ${fileSize - HEADER_PREFIX_BYTES}`,
      found: len,
    });
  }
  return len;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isOffset(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parses and validates the header JSON bytes of a file of `fileSize` bytes.
 * Throws `E_SAFETENSORS` naming the file (and tensor) on any defect.
 */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, file: string): ParsedHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch (cause) {
    throw new SparqError('E_SAFETENSORS', `${file}: header is not valid UTF-8`, {
      details: { file },
      cause,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new SparqError('E_SAFETENSORS', `${file}: header is not valid JSON (${(cause as Error).message})`, {
      details: { file },
      cause,
    });
  }
  if (!isPlainObject(json)) {
    throw bad(file, `header must be a JSON object, found ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`);
  }

  const dataStart = HEADER_PREFIX_BYTES + headerBytes.byteLength;
  const dataLength = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  // Relative offsets kept beside each tensor for the tiling check.
  const entries: { info: TensorInfo; begin: number; end: number }[] = [];

  for (const [name, raw] of Object.entries(json)) {
    if (name === METADATA_KEY) {
      readMetadata(raw, metadata, file);
      continue;
    }
    const tensor = name;
    if (!isPlainObject(raw)) throw bad(file, 'header entry must be an object with dtype, shape and data_offsets', { tensor });
    const { dtype: dt, shape, data_offsets: offs } = raw;
    if (typeof dt !== 'string') throw bad(file, 'missing or non-string "dtype"', { tensor, found: dt });
    const dtype = FROM_SAFETENSORS.get(dt);
    if (dtype === undefined) {
      throw bad(file, `unknown or unsupported dtype "${dt}"; supported: ${SUPPORTED.join(', ')}`, {
        tensor,
        expected: SUPPORTED,
        found: dt,
      }, 'convert the checkpoint to one of the supported dtypes');
    }
    if (!Array.isArray(shape)) throw bad(file, 'missing or non-array "shape"', { tensor, found: shape });
    for (const d of shape) {
      if (!isOffset(d)) {
        throw bad(file, `shape [${shape.join(', ')}] must hold non-negative integers`, { tensor, found: shape });
      }
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !isOffset(offs[0]) || !isOffset(offs[1])) {
      throw bad(file, '"data_offsets" must be [begin, end] with non-negative integers', { tensor, found: offs });
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) {
      throw bad(file, `data_offsets [${begin}, ${end}] end before they begin`, { tensor, found: offs });
    }
    let numel = 1;
    for (const d of shape as number[]) numel *= d;
    const expectedBytes = numel * dtypeBytes(dtype);
    if (!Number.isSafeInteger(expectedBytes) || end - begin !== expectedBytes) {
      throw bad(
        file,
        `data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dt} [${shape.join(', ')}] needs ${expectedBytes}`,
        { tensor, expected: expectedBytes, found: end - begin },
      );
    }
    entries.push({
      info: { name, dtype, shape: Object.freeze([...(shape as number[])]), byteOffset: dataStart + begin, byteLength: end - begin, file },
      begin,
      end,
    });
  }

  checkTiling(entries, dataLength, file);
  return { tensors: entries.map((e) => e.info), metadata, dataStart };
}

function readMetadata(raw: unknown, out: Record<string, string>, file: string): void {
  if (!isPlainObject(raw)) throw bad(file, `"${METADATA_KEY}" must be an object of strings`, { found: raw });
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') {
      throw bad(file, `"${METADATA_KEY}" value of "${k}" must be a string, found ${v === null ? 'null' : typeof v}`, {
        expected: 'string',
        found: v,
      });
    }
    // defineProperty so a "__proto__" key stays plain data, not a prototype.
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
}

/**
 * Sorted by (begin, end), each tensor must start where the previous one ended
 * and the last must end exactly at the end of the file: no gaps, no overlaps,
 * no trailing or missing bytes (reference: `validate` + `MetadataIncompleteBuffer`).
 */
function checkTiling(entries: { info: TensorInfo; begin: number; end: number }[], dataLength: number, file: string): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin !== pos) {
      const tensor = e.info.name;
      if (e.end > dataLength) {
        throw bad(file, `data_offsets [${e.begin}, ${e.end}] lie outside the data section (${dataLength} bytes)`, {
          tensor,
          expected: `<= ${dataLength}`,
          found: [e.begin, e.end],
        });
      }
      const what = e.begin < pos ? 'overlaps the previous tensor' : `leaves a gap of ${e.begin - pos} bytes`;
      throw bad(file, `data_offsets [${e.begin}, ${e.end}] ${what}: expected it to begin at ${pos}`, {
        tensor,
        expected: pos,
        found: e.begin,
      });
    }
    pos = e.end;
  }
  if (pos > dataLength) {
    throw bad(
      file,
      `truncated: expected ${pos} bytes of data, found ${dataLength}`,
      { expected: pos, found: dataLength },
      'the file was cut short (interrupted download or copy); fetch it again',
    );
  }
  if (pos < dataLength) {
    throw bad(file, `data section holds ${dataLength} bytes but the tensors use only ${pos}`, {
      expected: pos,
      found: dataLength,
    });
  }
}

/** A tensor declared to the writer: its name, dtype and shape. */
export interface TensorEntry {
  name: string;
  dtype: DType;
  shape: readonly number[];
}

/** An encoded header: the full prefix + JSON + padding, and each tensor's data byte size. */
export interface EncodedHeader {
  /** 8-byte length followed by the space-padded JSON; the data section starts right after. */
  bytes: Uint8Array;
  /** Data bytes of each entry, in entry order. */
  byteLengths: number[];
}

/**
 * Encodes a header for `entries` laid out back to back in the given order.
 * The JSON is compact (`dtype`, `shape`, `data_offsets` key order, as the
 * reference writer emits) and padded with spaces so that N, and therefore the
 * data section start, is a multiple of 8.
 */
export function encodeHeader(entries: readonly TensorEntry[], metadata: Record<string, string> | undefined): EncodedHeader {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  const byteLengths: number[] = [];
  let pos = 0;
  for (const e of entries) {
    let numel = 1;
    for (const d of e.shape) numel *= d;
    const len = numel * dtypeBytes(e.dtype);
    byteLengths.push(len);
    // defineProperty so a tensor named "__proto__" is serialised, not swallowed.
    Object.defineProperty(header, e.name, {
      value: { dtype: dtypeToSafetensors(e.dtype), shape: [...e.shape], data_offsets: [pos, pos + len] },
      enumerable: true,
    });
    pos += len;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil(json.byteLength / 8) * 8;
  if (n > MAX_HEADER_BYTES) {
    throw new SparqError('E_SAFETENSORS', `header would be ${n} bytes, over the ${MAX_HEADER_BYTES}-byte limit readers accept`, {
      details: { expected: `<= ${MAX_HEADER_BYTES}`, found: n },
      hint: 'split the tensors over several files',
    });
  }
  const bytes = new Uint8Array(HEADER_PREFIX_BYTES + n).fill(0x20);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
  bytes.set(json, HEADER_PREFIX_BYTES);
  return { bytes, byteLengths };
}

/** True on little-endian hosts; typed arrays are then byte-identical to safetensors data. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Throws `E_INTERNAL` on a big-endian host: the reader and writer view file
 * bytes directly as typed arrays, which is only correct on little-endian hosts.
 */
export function assertLittleEndianHost(): void {
  if (!HOST_LITTLE_ENDIAN) {
    throw new SparqError('E_INTERNAL', 'sparq safetensors I/O requires a little-endian host');
  }
}
