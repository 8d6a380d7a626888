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
  it('reaches no Node built-in module and only @sparq/tensor', () => {
    const { files, bare } = importGraph(join(src, 'browser.ts'));
    const node = new Set([...builtinModules, ...builtinModules.map((b) => `node:${b}`)]);
    const offenders = [...bare].filter(([spec]) => node.has(spec) || spec.startsWith('node:')).map(([spec, file]) => `${file}: ${spec}`);
    expect(offenders).toEqual([]);
    expect([...bare.keys()].sort()).toEqual(['@sparq/tensor']);
    // Sanity: the walk really covered the container reader and the safetensors reader.
    expect([...files].map((f) => f.slice(src.length + 1))).toEqual(expect.arrayContaining(['container-open.ts', 'safetensors-source.ts', 'byte-source.ts']));
  });
});
