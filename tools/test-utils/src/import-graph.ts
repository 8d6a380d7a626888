/**
 * The import graph of a TypeScript entry file, for tests that check a browser
 * entry point (`browser.ts`, picked by bundlers through the `browser` export
 * condition) never reaches a Node built-in module.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';

const IMPORT_RE = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

/** Every file reachable from `entry` through relative imports, and each bare specifier with a file that imports it. */
export function importGraph(entry: string): { files: Set<string>; bare: Map<string, string> } {
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

/** The `file: specifier` pairs of `bare` that name a Node built-in module (`fs`, `node:fs`, …). */
export function nodeBuiltinImports(bare: Map<string, string>): string[] {
  const node = new Set([...builtinModules, ...builtinModules.map((b) => `node:${b}`)]);
  return [...bare].filter(([spec]) => node.has(spec) || spec.startsWith('node:')).map(([spec, file]) => `${file}: ${spec}`);
}
