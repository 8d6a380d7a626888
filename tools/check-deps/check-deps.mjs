#!/usr/bin/env node
// The single source of truth for sparq's package graph. It fails when
//  1. a package.json dependency/peerDependency on @sparq/* is not allowed by ALLOWED,
//  2. a source file imports an @sparq/* package its package.json does not declare,
//  3. a source file imports a subpath of another package (@sparq/x/src/...), or
//  4. a relative import leaves its own package folder (reaching into another's internals).
// Dependencies point one way: tensor ← format ← solvers and backends ← lm ← compress ← planner ← apps.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Runtime dependencies each package may declare (dependencies / peerDependencies). */
export const ALLOWED = {
  '@sparq/tensor': [],
  '@sparq/format': ['@sparq/tensor'],
  '@sparq/pruners': ['@sparq/tensor', '@sparq/format'],
  '@sparq/quantizers': ['@sparq/tensor', '@sparq/format'],
  '@sparq/backend-cpu-wasm': ['@sparq/tensor', '@sparq/format'],
  '@sparq/backend-webgpu': ['@sparq/tensor', '@sparq/format'],
  '@sparq/backend-cuda': ['@sparq/tensor', '@sparq/format'],
  '@sparq/backend-fpga-sim': ['@sparq/tensor', '@sparq/format'],
  '@sparq/lm': ['@sparq/tensor', '@sparq/format'],
  '@sparq/compress': ['@sparq/tensor', '@sparq/format', '@sparq/pruners', '@sparq/quantizers', '@sparq/lm'],
  '@sparq/planner': ['@sparq/tensor', '@sparq/format', '@sparq/lm', '@sparq/compress'],
  '@sparq/cli': '*',
  '@sparq/docs': '*',
  '@sparq/web': '*',
};

/** Extra devDependencies allowed (tests may run models on a concrete backend). */
const ALLOWED_DEV = {
  '@sparq/lm': ['@sparq/backend-*'],
  '@sparq/compress': ['@sparq/backend-*'],
  '@sparq/planner': ['@sparq/backend-*'],
};

const IMPORT_RE = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

function matches(name, pattern) {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

function listFiles(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e === 'dist' || e.startsWith('.')) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) listFiles(p, out);
    else if (/\.(ts|mts|js|mjs|tsx)$/.test(e)) out.push(p);
  }
  return out;
}

/** Returns a list of human-readable violations for the workspace at `root`. */
export function checkWorkspace(root) {
  const problems = [];
  const pkgs = [];
  for (const group of ['packages', 'apps', 'tools']) {
    const g = join(root, group);
    if (!existsSync(g)) continue;
    for (const d of readdirSync(g)) {
      const pj = join(g, d, 'package.json');
      if (existsSync(pj)) pkgs.push({ dir: join(g, d), group, json: JSON.parse(readFileSync(pj, 'utf8')) });
    }
  }
  const names = new Set(pkgs.map((p) => p.json.name));
  for (const { dir, group, json } of pkgs) {
    const name = json.name;
    const isTool = group === 'tools';
    const rel = relative(root, dir);
    if (!isTool && !(name in ALLOWED)) {
      problems.push(`${rel}/package.json: package ${name} is not in the allowed graph (tools/check-deps/check-deps.mjs)`);
      continue;
    }
    const allowed = isTool ? '*' : ALLOWED[name];
    const runtime = { ...json.dependencies, ...json.peerDependencies };
    const dev = json.devDependencies ?? {};
    for (const dep of Object.keys(runtime)) {
      if (!dep.startsWith('@sparq/')) continue;
      const depTool = pkgs.find((p) => p.json.name === dep)?.group === 'tools';
      if (depTool && !isTool) problems.push(`${rel}/package.json: ${dep} is private tooling; declare it in devDependencies only`);
      else if (allowed !== '*' && !allowed.includes(dep)) {
        problems.push(`${rel}/package.json: ${name} may not depend on ${dep} (allowed: ${allowed.join(', ') || 'nothing internal'})`);
      }
    }
    for (const dep of Object.keys(dev)) {
      if (!dep.startsWith('@sparq/') || isTool || allowed === '*') continue;
      const depTool = pkgs.find((p) => p.json.name === dep)?.group === 'tools';
      const ok = depTool || allowed.includes(dep) || (ALLOWED_DEV[name] ?? []).some((pat) => matches(dep, pat));
      if (!ok) problems.push(`${rel}/package.json: ${name} may not depend on ${dep}, not even as a devDependency`);
    }
    const declared = new Set([...Object.keys(runtime), ...Object.keys(dev)]);
    // The checker's own source holds planted violations for its self-test.
    if (name === '@sparq/check-deps') continue;
    for (const file of listFiles(dir)) {
      const src = readFileSync(file, 'utf8');
      const frel = relative(root, file);
      const isTestish = /\.(test|bench)\.[mc]?[jt]s$|[/\\](bench|test)[/\\]/.test(file);
      for (const m of src.matchAll(IMPORT_RE)) {
        const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
        if (spec.startsWith('@sparq/')) {
          const base = spec.split('/').slice(0, 2).join('/');
          if (spec !== base) problems.push(`${frel}: deep import "${spec}" reaches into ${base}'s internals; import from "${base}"`);
          if (base === name) problems.push(`${frel}: imports its own package "${base}"; use a relative import`);
          else if (!declared.has(base)) problems.push(`${frel}: imports ${base}, which ${name}'s package.json does not declare`);
          else if (!isTestish && !isTool && !(base in runtime) && names.has(base)) {
            problems.push(`${frel}: library code imports ${base}, declared only as a devDependency`);
          }
        } else if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          if (target !== dir && !target.startsWith(dir + sep)) {
            problems.push(`${frel}: relative import "${spec}" leaves the package folder ${rel}`);
          }
        }
      }
    }
  }
  return problems;
}

function selfTest() {
  const root = mkdtempSync(join(tmpdir(), 'check-deps-'));
  const pkg = (group, dir, json, files = {}) => {
    mkdirSync(join(root, group, dir, 'src'), { recursive: true });
    writeFileSync(join(root, group, dir, 'package.json'), JSON.stringify(json));
    for (const [f, s] of Object.entries(files)) writeFileSync(join(root, group, dir, f), s);
  };
  try {
    pkg('packages', 'tensor', { name: '@sparq/tensor', dependencies: { '@sparq/lm': 'workspace:*' } });
    pkg('packages', 'format', { name: '@sparq/format', dependencies: { '@sparq/tensor': 'workspace:*' } }, {
      'src/a.ts': "import { x } from '@sparq/tensor/src/tensor';\nimport { y } from '../../lm/src/model';\nimport { z } from '@sparq/lm';\n",
    });
    pkg('packages', 'lm', { name: '@sparq/lm', dependencies: { '@sparq/tensor': 'workspace:*' }, devDependencies: { '@sparq/backend-cpu-wasm': 'workspace:*' } }, {
      'src/ok.ts': "import { T } from '@sparq/tensor';\nimport { h } from './h';\n",
      'src/bad.ts': "import { b } from '@sparq/backend-cpu-wasm';\n",
      'src/ok.test.ts': "import { b } from '@sparq/backend-cpu-wasm';\n",
    });
    pkg('packages', 'backend-cpu-wasm', { name: '@sparq/backend-cpu-wasm', devDependencies: { '@sparq/lm': 'workspace:*' } });
    const got = checkWorkspace(root).join('\n');
    const want = [
      '@sparq/tensor may not depend on @sparq/lm',
      'deep import "@sparq/tensor/src/tensor"',
      'relative import "../../lm/src/model" leaves the package folder',
      "imports @sparq/lm, which @sparq/format's package.json does not declare",
      'library code imports @sparq/backend-cpu-wasm, declared only as a devDependency',
      '@sparq/backend-cpu-wasm may not depend on @sparq/lm, not even as a devDependency',
    ];
    const missing = want.filter((w) => !got.includes(w));
    const lines = got.split('\n').length;
    if (missing.length || lines !== want.length) {
      console.error(`check-deps self-test FAILED\nmissing: ${JSON.stringify(missing)}\ngot (${lines}):\n${got}`);
      process.exit(1);
    }
    console.log(`check-deps self-test: ${want.length} planted violations found, ok.ts/ok.test.ts clean`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--self-test')) selfTest();
  else {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const problems = checkWorkspace(root);
    if (problems.length) {
      console.error(`check-deps: ${problems.length} violation(s) of the package graph:\n  ${problems.join('\n  ')}`);
      process.exit(1);
    }
    console.log('check-deps: package graph OK');
  }
}
