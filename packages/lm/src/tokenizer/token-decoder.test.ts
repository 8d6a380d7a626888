import { readFileSync } from 'node:fs';
import { sharedPath } from '@sparq/test-utils';
import { describe, expect, it } from 'vitest';
import { parseLlama2cTokenizer } from './llama2c';
import { createTokenDecoder } from './token-decoder';

const tok = parseLlama2cTokenizer(new Uint8Array(readFileSync(sharedPath('models', 'stories260K', 'tok512.bin'))));
const greedy = JSON.parse(readFileSync(sharedPath('models', 'stories260K', 'reference-greedy-Zoo.json'), 'utf8')) as {
  greedy_ids: number[];
  greedy_text: string;
};

describe('createTokenDecoder', () => {
  it('streams the reference greedy ids to the reference text (BOS context strips the first space)', () => {
    const dec = createTokenDecoder(tok);
    const parts = greedy.greedy_ids.map((id) => dec.push(id));
    // BOS prints nothing; the next piece is the dummy-prefix " " (prompt ids
    // [1, 410, 469, 347]), which run.c prints as "" because a piece after BOS
    // loses its leading space; then "Z".
    expect(parts.slice(0, 3)).toEqual(['', '', 'Z']);
    expect(parts.join('') + dec.flush()).toBe(greedy.greedy_text);
  });

  it('holds byte-fallback pieces until the UTF-8 character is complete', () => {
    // 🦊 = F0 9F A6 8A; byte b is id b + 3 in llama2.c tokenizers.
    const fox = [0xf0, 0x9f, 0xa6, 0x8a].map((b) => b + 3);
    const dec = createTokenDecoder(tok);
    expect([1, ...fox].map((id) => dec.push(id))).toEqual(['', '', '', '', '🦊']);
    // An unfinished character is flushed as U+FFFD at the end.
    const cut = createTokenDecoder(tok);
    expect(fox.slice(0, 2).map((id) => cut.push(id)).join('')).toBe('');
    expect(cut.flush()).toBe('\uFFFD');
  });
});
