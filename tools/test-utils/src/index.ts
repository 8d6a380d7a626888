/**
 * Test helpers shared by every package's tests. Real-model and reference
 * fixtures live in `../shared` beside the repository (or `SPARQ_SHARED`); a
 * missing fixture is a loud failure, never a skip.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root (the folder holding pnpm-workspace.yaml). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('test-utils: cannot find the repository root (pnpm-workspace.yaml)');
    dir = up;
  }
  return dir;
}

/** The shared fixtures folder: `$SPARQ_SHARED`, default `<repo>/../shared`. Throws if missing. */
export function sharedDir(): string {
  const dir = process.env.SPARQ_SHARED ? resolve(process.env.SPARQ_SHARED) : resolve(repoRoot(), '..', 'shared');
  if (!existsSync(join(dir, 'MANIFEST.md'))) {
    throw new Error(
      `shared fixtures not found at ${dir} (no MANIFEST.md). Set SPARQ_SHARED to the shared/ folder ` +
        'holding models/, data/ and reference/.',
    );
  }
  return dir;
}

/** Path of a file or folder under the shared fixtures; throws if it does not exist. */
export function sharedPath(...parts: string[]): string {
  const p = join(sharedDir(), ...parts);
  if (!existsSync(p)) throw new Error(`shared fixture missing: ${p}`);
  return p;
}

export { layerFixturesDir, loadLayerCases, readFixtureSafetensors } from './layer-fixtures';
export type { FixtureTensor, LayerCase } from './layer-fixtures';
export { launchWebGpuPage, webGpuAdapterInfo, chromiumPath, CHROMIUM_ARGS, TEST_ORIGIN, BLANK_PAGE } from './browser';
export type { WebGpuPage, WebGpuPageOptions, WebGpuAdapterInfo, ServedFiles, ServedFile } from './browser';
export { importGraph, nodeBuiltinImports } from './import-graph';
