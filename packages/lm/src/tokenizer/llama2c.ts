/**
 * llama2.c `tokenizer.bin`: reader, encoder and decoder matching Karpathy's
 * `run.c` (`build_tokenizer`, `encode`, `decode`) token for token.
 *
 * File layout (little-endian): int32 `max_token_length`, then per piece a
 * float32 score, an int32 byte length and that many bytes (no terminator).
 * The file does not store the piece count; `run.c` takes it from the
 * checkpoint header, here it is the optional `vocabSize` or "until EOF".
 */
import { SparqError } from '@sparq/tensor';
import type { DecodeOptions, EncodeOptions, Tokenizer } from './types';

/** llama2.c's fixed control ids (sentencepiece defaults: 0 `<unk>`, 1 BOS, 2 EOS). */
const BOS_ID = 1;
const EOS_ID = 2;
/** Byte-fallback pieces `<0x00>`…`<0xFF>` start at id 3 in sentencepiece exports. */
const BYTE_OFFSET = 3;
/** `run.c` starts its best-score search at -1e10, so pairs scoring at or below it never merge. */
const MIN_MERGE_SCORE = -1e10;

/** Options of {@link parseLlama2cTokenizer} and {@link loadLlama2cTokenizer}. */
export interface Llama2cTokenizerOptions {
  /** Number of pieces to read (the checkpoint's `vocab_size`); default: read to the end of the file. */
  vocabSize?: number;
  /** File name used in error messages. */
  file?: string;
}

// Pieces are kept as "byte strings" (one JS char per byte, code = byte) so
// that concatenation and lookup compare raw bytes exactly as run.c's strcmp
// does. (TextDecoder('latin1') is really windows-1252, so it is not used.)
const utf8Encoder = new TextEncoder();

function bytesToByteString(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function toByteString(text: string): string {
  return bytesToByteString(utf8Encoder.encode(text));
}

/** Binary max-heap of candidate merges: higher score first, then leftmost position (run.c's tie rule). */
class MergeHeap {
  private readonly items: { score: number; pos: number; lv: number; rv: number; id: number }[] = [];
  get size(): number {
    return this.items.length;
  }
  private before(a: number, b: number): boolean {
    const x = this.items[a];
    const y = this.items[b];
    return x.score > y.score || (x.score === y.score && x.pos < y.pos);
  }
  push(item: { score: number; pos: number; lv: number; rv: number; id: number }): void {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): { score: number; pos: number; lv: number; rv: number; id: number } {
    const h = this.items;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(l, m)) m = l;
        if (r < h.length && this.before(r, m)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/**
 * A llama2.c tokenizer. Build it with {@link parseLlama2cTokenizer} or
 * {@link loadLlama2cTokenizer}.
 */
export class Llama2cTokenizer implements Tokenizer {
  /** Always `'llama2c'`. */
  readonly kind = 'llama2c' as const;
  /** Number of pieces. */
  readonly vocabSize: number;
  /** 1, as in llama2.c. */
  readonly bosId: number | undefined;
  /** 2, as in llama2.c. */
  readonly eosId: number | undefined;
  /** llama2.c always prepends BOS when encoding a prompt. */
  readonly addBosByDefault = true;
  /** The header's `max_token_length` (longest piece in bytes). */
  readonly maxTokenLength: number;
  /** Per-piece merge scores (sentencepiece: minus the merge rank). */
  readonly scores: Float32Array;
  private readonly pieces: string[];
  private readonly lookup = new Map<string, number>();
  /** Byte value of each `<0xXX>` piece, -1 for other pieces. */
  private readonly byteOf: Int16Array;

  /** Prefer {@link parseLlama2cTokenizer}; this takes already validated data. */
  constructor(maxTokenLength: number, pieces: string[], scores: Float32Array) {
    this.maxTokenLength = maxTokenLength;
    this.pieces = pieces;
    this.scores = scores;
    this.vocabSize = pieces.length;
    this.bosId = pieces.length > BOS_ID ? BOS_ID : undefined;
    this.eosId = pieces.length > EOS_ID ? EOS_ID : undefined;
    this.byteOf = new Int16Array(pieces.length).fill(-1);
    for (let i = 0; i < pieces.length; i++) {
      // Duplicate pieces: keep the lowest id (run.c's bsearch would pick an arbitrary one).
      if (!this.lookup.has(pieces[i])) this.lookup.set(pieces[i], i);
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(pieces[i]);
      if (m) this.byteOf[i] = parseInt(m[1], 16);
    }
  }

  /**
   * Token ids of `text`, as llama2.c's `encode()`: optional BOS, a dummy-prefix
   * `" "` piece when `text` is non-empty, one piece per UTF-8 code point (byte
   * fallback `byte + 3` when missing), then greedy merging of the adjacent
   * pair whose concatenation has the highest score (ties: leftmost).
   */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const addBos = opts.addBos ?? this.addBosByDefault;
    const tokens: number[] = [];
    if (addBos) tokens.push(this.requireId(BOS_ID, 'BOS'));
    if (text.length > 0) this.pushPiece(tokens, ' ');
    // One lookup per code point; JS iteration yields code points, and
    // TextEncoder turns lone surrogates into U+FFFD, as any UTF-8 writer would.
    for (const ch of text) this.pushPiece(tokens, toByteString(ch));
    const merged = this.merge(tokens);
    if (opts.addEos) merged.push(this.requireId(EOS_ID, 'EOS'));
    return merged;
  }

  /**
   * Text of `ids`, as llama2.c's `decode()` applied token by token: a piece
   * right after BOS loses its leading space, `<0xXX>` pieces are raw bytes, and
   * the collected bytes are decoded as UTF-8 at the end (invalid sequences
   * become U+FFFD). BOS/EOS print nothing unless `skipSpecialTokens` is false.
   */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const skip = opts.skipSpecialTokens ?? true;
    const bytes: number[] = [];
    let prev = -1;
    for (const id of ids) {
      this.checkId(id);
      if (skip && (id === BOS_ID || id === EOS_ID)) {
        prev = id;
        continue;
      }
      const b = this.byteOf[id];
      if (b >= 0) {
        bytes.push(b);
      } else {
        let piece = this.pieces[id];
        if (prev === BOS_ID && piece.charCodeAt(0) === 0x20) piece = piece.slice(1);
        for (let i = 0; i < piece.length; i++) bytes.push(piece.charCodeAt(i));
      }
      prev = id;
    }
    return new TextDecoder('utf-8').decode(new Uint8Array(bytes));
  }

  /** The piece of `id` as text (UTF-8 decoded), or undefined when out of range. */
  idToToken(id: number): string | undefined {
    const p = this.pieces[id];
    if (p === undefined) return undefined;
    return new TextDecoder('utf-8').decode(Uint8Array.from(p, (c) => c.charCodeAt(0)));
  }

  /** The id of a piece given as text, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.lookup.get(toByteString(token));
  }

  private requireId(id: number, what: string): number {
    if (id >= this.vocabSize) {
      throw new SparqError('E_TOKENIZER', `llama2.c tokenizer has ${this.vocabSize} pieces, so no ${what} id ${id}`);
    }
    return id;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new SparqError('E_TOKENIZER', `token id ${id} is outside the llama2.c vocabulary [0, ${this.vocabSize})`, {
        details: { expected: `integer in [0, ${this.vocabSize})`, found: id },
      });
    }
  }

  /** Pushes the id of one code point's bytes, or one byte-fallback id per byte. */
  private pushPiece(tokens: number[], bytes: string): void {
    const id = this.lookup.get(bytes);
    if (id !== undefined) {
      tokens.push(id);
      return;
    }
    for (let i = 0; i < bytes.length; i++) {
      const fb = bytes.charCodeAt(i) + BYTE_OFFSET;
      if (fb >= this.vocabSize) {
        throw new SparqError(
          'E_TOKENIZER',
          `cannot encode byte 0x${bytes.charCodeAt(i).toString(16)}: not in the vocabulary and no byte-fallback piece (id ${fb} ≥ ${this.vocabSize})`,
        );
      }
      tokens.push(fb);
    }
  }

  /**
   * run.c's merge loop, in O(n log n): run.c rescans all pairs per merge
   * (O(n²)); a heap ordered by (score desc, position asc) with stale entries
   * skipped picks the same pair at every step, since merged nodes keep the
   * left node's position and so positions stay in sequence order.
   */
  private merge(input: number[]): number[] {
    const n = input.length;
    if (n < 2) return input.slice();
    const tok = input.slice();
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const ver = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new MergeHeap();
    const consider = (l: number): void => {
      if (l < 0) return;
      const r = next[l];
      if (r < 0) return;
      const id = this.lookup.get(this.pieces[tok[l]] + this.pieces[tok[r]]);
      if (id === undefined) return;
      const score = this.scores[id];
      if (!(score > MIN_MERGE_SCORE)) return;
      heap.push({ score, pos: l, lv: ver[l], rv: ver[r], id });
    };
    for (let i = 0; i + 1 < n; i++) consider(i);
    while (heap.size > 0) {
      const m = heap.pop();
      const l = m.pos;
      const r = next[l];
      // Stale: the left node changed or died, or its neighbour is not the one scored.
      if (ver[l] !== m.lv || ver[l] < 0 || r < 0 || ver[r] !== m.rv) continue;
      tok[l] = m.id;
      ver[l]++;
      ver[r] = -1; // dead
      next[l] = next[r];
      if (next[r] >= 0) prev[next[r]] = l;
      consider(prev[l]);
      consider(l);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) out.push(tok[i]);
    return out;
  }
}

function malformed(file: string, message: string, hint?: string): SparqError {
  return new SparqError('E_TOKENIZER', `llama2.c tokenizer "${file}": ${message}`, {
    details: { file },
    hint: hint ?? 'the file is truncated or not a llama2.c tokenizer.bin (int32 max_token_length, then per piece float32 score, int32 length, bytes)',
  });
}

/**
 * Parses a llama2.c `tokenizer.bin` from its bytes. Throws `E_TOKENIZER`
 * (naming the file and the piece index) for a truncated file, a negative or
 * out-of-bounds piece length, or fewer pieces than `vocabSize`.
 * @example
 * const tok = parseLlama2cTokenizer(bytes, { vocabSize: 512, file: 'tok512.bin' });
 */
export function parseLlama2cTokenizer(bytes: Uint8Array, opts: Llama2cTokenizerOptions = {}): Llama2cTokenizer {
  const file = opts.file ?? '<bytes>';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4) throw malformed(file, `${bytes.byteLength} bytes, too short for the int32 max_token_length header`);
  const maxTokenLength = view.getInt32(0, true);
  if (maxTokenLength <= 0) throw malformed(file, `max_token_length is ${maxTokenLength}, expected > 0`);
  const want = opts.vocabSize;
  if (want !== undefined && !(Number.isInteger(want) && want > 0)) {
    throw new SparqError('E_ARG', `vocabSize must be a positive integer, got ${want}`);
  }
  const pieces: string[] = [];
  const scores: number[] = [];
  let off = 4;
  while (want === undefined ? off < bytes.byteLength : pieces.length < want) {
    const i = pieces.length;
    if (off + 8 > bytes.byteLength) {
      throw malformed(file, `piece ${i}: header (score, length) at byte ${off} runs past the end of the file (${bytes.byteLength} bytes)${want !== undefined ? `; expected ${want} pieces` : ''}`);
    }
    const score = view.getFloat32(off, true);
    const len = view.getInt32(off + 4, true);
    off += 8;
    if (len < 0) throw malformed(file, `piece ${i} has negative length ${len}`);
    if (off + len > bytes.byteLength) {
      throw malformed(file, `piece ${i} of length ${len} at byte ${off} runs past the end of the file (${bytes.byteLength} bytes)`);
    }
    pieces.push(bytesToByteString(bytes.subarray(off, off + len)));
    scores.push(score);
    off += len;
  }
  if (pieces.length === 0) throw malformed(file, 'no pieces after the header');
  return new Llama2cTokenizer(maxTokenLength, pieces, Float32Array.from(scores));
}
