// The browser entry (`browser.ts`, picked by bundlers through the `browser` export condition) must not reach any
// Node module: walk its relative-import graph and check every bare import is an allowed package, never `node:*`.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const IMPORT_RE = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
const src = dirname(fileURLToPath(import.meta.url));

/** Every file reachable from `entry` through relative imports, and every bare specifier they import. */
function importGraph(entry: string): { files: Set<string>; bare: Map<string, string> } {
  const files = new Set<string>();
  const bare = new Map<string, string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT_RE)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), `${spec}.ts`));
      else bare.set(spec, file);
    }
  };
  visit(entry);
  return { files, bare };
}

describe('browser entry', () => {
  it('reaches no Node built-in module, only @sparq/tensor, @sparq/format and @huggingface/tokenizers', () => {
    const { files, bare } = importGraph(join(src, 'browser.ts'));
    const node = new Set([...builtinModules, ...builtinModules.map((b) => `node:${b}`)]);
    const offenders = [...bare].filter(([spec]) => node.has(spec) || spec.startsWith('node:')).map(([spec, file]) => `${file}: ${spec}`);
    expect(offenders).toEqual([]);
    expect([...bare.keys()].sort()).toEqual(['@huggingface/tokenizers', '@sparq/format', '@sparq/tensor']);
    // Sanity: the walk really covered the loader, the model, generation and the tokenizers.
    expect([...files].map((f) => f.slice(src.length + 1))).toEqual(expect.arrayContaining(['load-from.ts', 'model.ts', 'generate.ts', 'tokenizer/from-files.ts', 'tokenizer/llama2c.ts']));
  });
});
