/**
 * Incremental detokenization for streaming generation: turns ids arriving
 * one at a time into text deltas whose concatenation equals
 * `tokenizer.decode(allIds)`, without printing half of a multi-byte UTF-8
 * character (a byte-fallback token, or a GPT-2 byte token, may carry only
 * part of one).
 */
import type { DecodeOptions, Tokenizer } from './types';

/** Streaming decoder state; see {@link createTokenDecoder}. */
export interface TokenDecoder {
  /** Adds one id; returns the newly completed text ('' while a character is incomplete). */
  push(id: number): string;
  /** Returns whatever text is still held back (an incomplete character decodes to U+FFFD). */
  flush(): string;
}

const REPLACEMENT = '\uFFFD';

/**
 * A {@link TokenDecoder} over any {@link Tokenizer}. It re-decodes a short
 * window — the ids since the last clean emission plus one id of context —
 * and emits the text beyond the context. The context id matters because
 * decoders look back (llama2.c strips the space after BOS, sentencepiece
 * decoders strip the first piece's leading space), so decoding the new id
 * alone would be wrong. Text ending in U+FFFD is held until more ids arrive.
 * @example
 * const dec = createTokenDecoder(tok);
 * for (const id of ids) process.stdout.write(dec.push(id));
 * process.stdout.write(dec.flush());
 */
export function createTokenDecoder(tokenizer: Tokenizer, opts: DecodeOptions = {}): TokenDecoder {
  // window[0 .. contextLen) is context already printed; the rest is pending.
  let window: number[] = [];
  let contextLen = 0;
  let contextText = '';

  const settle = (): void => {
    // Keep the last id as context only when it decodes cleanly on its own;
    // otherwise keep the whole window (a multi-token character) as context.
    const last = window[window.length - 1];
    const alone = tokenizer.decode([last], opts);
    if (!alone.includes(REPLACEMENT)) {
      window = [last];
      contextLen = 1;
      contextText = alone;
    } else {
      contextLen = window.length;
      contextText = tokenizer.decode(window, opts);
    }
  };

  // Text of the ids after the context. If the context decodes differently
  // once followed by more ids (a decoder that rewrites earlier text), what
  // was printed cannot be taken back: decode the new ids alone instead.
  const pending = (): string => {
    const text = tokenizer.decode(window, opts);
    if (text.startsWith(contextText)) return text.slice(contextText.length);
    return tokenizer.decode(window.slice(contextLen), opts);
  };

  return {
    push(id: number): string {
      window.push(id);
      const delta = pending();
      if (delta.endsWith(REPLACEMENT)) return '';
      settle();
      return delta;
    },
    flush(): string {
      if (window.length === contextLen) return '';
      const delta = pending();
      settle();
      return delta;
    },
  };
}
