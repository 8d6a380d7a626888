// The browser entry (`browser.ts`, picked by bundlers through the `browser` export condition) must not reach any
// Node module: walk its relative-import graph and check every bare import is an allowed package, never `node:*`.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importGraph, nodeBuiltinImports } from '@sparq/test-utils';
import { describe, expect, it } from 'vitest';

const src = dirname(fileURLToPath(import.meta.url));

describe('browser entry', () => {
  it('reaches no Node built-in module and only @sparq/tensor', () => {
    const { files, bare } = importGraph(join(src, 'browser.ts'));
    expect(nodeBuiltinImports(bare)).toEqual([]);
    expect([...bare.keys()].sort()).toEqual(['@sparq/tensor']);
    // Sanity: the walk really covered the container reader and the safetensors reader.
    expect([...files].map((f) => f.slice(src.length + 1))).toEqual(expect.arrayContaining(['container-open.ts', 'safetensors-source.ts', 'byte-source.ts']));
  });
});
