import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '@sparq/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { findTokenizerInFolder, loadTokenizer } from './load';

const tmp = mkdtempSync(join(tmpdir(), 'sparq-load-tok-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const storiesDir = sharedPath('models', 'stories260K');
const tok512 = sharedPath('models', 'stories260K', 'tok512.bin');
const gpt2Dir = sharedPath('models', 'gpt2-tokenizer');

describe('loadTokenizer / findTokenizerInFolder', () => {
  it('finds a folder own tokenizer by the documented names', () => {
    expect(findTokenizerInFolder(storiesDir)).toBe(tok512);
    expect(findTokenizerInFolder(gpt2Dir)).toBe(join(gpt2Dir, 'vocab.json'));
    // The HF copy of stories260K has no tokenizer (MANIFEST).
    expect(findTokenizerInFolder(sharedPath('models', 'stories260K', 'hf'))).toBeUndefined();
    expect(findTokenizerInFolder(join(tmp, 'missing'))).toBeUndefined();
  });

  it('loads llama2.c and GPT-2 tokenizers from folders and files', async () => {
    const llama = await loadTokenizer(storiesDir);
    expect(llama.kind).toBe('llama2c');
    expect(llama.encode('Zoo')).toEqual([1, 410, 469, 347]); // reference-greedy-Zoo.json prompt_ids
    for (const p of [gpt2Dir, join(gpt2Dir, 'vocab.json'), join(gpt2Dir, 'merges.txt')]) {
      const g = await loadTokenizer(p);
      expect(g.kind).toBe('gpt2-bpe');
      expect(g.encode('hello world')).toEqual([31373, 995]); // openai/tiktoken tests/test_encoding.py
    }
  });

  it('prefers tokenizer.json, and sniffs the content of unknown names', async () => {
    const both = join(tmp, 'both');
    mkdirSync(both);
    copyFileSync(tok512, join(both, 'tokenizer.bin'));
    expect(findTokenizerInFolder(both)).toBe(join(both, 'tokenizer.bin'));
    writeFileSync(join(both, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b'] } }));
    expect(findTokenizerInFolder(both)).toBe(join(both, 'tokenizer.json'));
    const hf = await loadTokenizer(both);
    expect(hf.kind).toBe('hf');
    expect(hf.encode('abba')).toEqual([2, 1, 0]);

    copyFileSync(tok512, join(tmp, 'weights-tokenizer.dat'));
    expect((await loadTokenizer(join(tmp, 'weights-tokenizer.dat'))).kind).toBe('llama2c');
    copyFileSync(join(both, 'tokenizer.json'), join(tmp, 'renamed.json'));
    expect((await loadTokenizer(join(tmp, 'renamed.json'))).kind).toBe('hf');
  });

  it('says what it looked for when nothing matches', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    await expect(loadTokenizer(empty)).rejects.toMatchObject({
      code: 'E_NOT_FOUND',
      message: expect.stringMatching(/tokenizer\.json.*vocab\.json \+ merges\.txt.*tokenizer\.bin/),
    });
    await expect(loadTokenizer(join(tmp, 'nope.bin'))).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    const lone = join(tmp, 'lone');
    mkdirSync(lone);
    copyFileSync(join(gpt2Dir, 'vocab.json'), join(lone, 'vocab.json'));
    await expect(loadTokenizer(join(lone, 'vocab.json'))).rejects.toMatchObject({
      code: 'E_NOT_FOUND',
      message: expect.stringMatching(/merges\.txt/),
    });
  });
});
