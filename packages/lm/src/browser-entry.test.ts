// The browser entry (`browser.ts`, picked by bundlers through the `browser` export condition) must not reach any
// Node module: walk its relative-import graph and check every bare import is an allowed package, never `node:*`.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importGraph, nodeBuiltinImports } from '@sparq/test-utils';
import { describe, expect, it } from 'vitest';

const src = dirname(fileURLToPath(import.meta.url));

describe('browser entry', () => {
  it('reaches no Node built-in module, only @sparq/tensor, @sparq/format and @huggingface/tokenizers', () => {
    const { files, bare } = importGraph(join(src, 'browser.ts'));
    expect(nodeBuiltinImports(bare)).toEqual([]);
    expect([...bare.keys()].sort()).toEqual(['@huggingface/tokenizers', '@sparq/format', '@sparq/tensor']);
    // Sanity: the walk really covered the loader, the model, generation and the tokenizers.
    expect([...files].map((f) => f.slice(src.length + 1))).toEqual(expect.arrayContaining(['load-from.ts', 'model.ts', 'generate.ts', 'tokenizer/from-files.ts', 'tokenizer/llama2c.ts']));
  });
});
