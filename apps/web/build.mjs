// Bundles the demo page with esbuild for browsers: src/main.ts → dist/main.js, plus index.html and style.css.
// Workspace packages resolve to their TypeScript sources (the @sparq/source condition) and to their browser
// entries (the `browser` condition that platform "browser" turns on), so no prior package build is needed and a
// Node-only module reaching the bundle is a build error.
//   node build.mjs            # writes dist/
//   node build.mjs --minify
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** esbuild options of the page bundle. */
export function bundleOptions({ minify = false } = {}) {
  return {
    entryPoints: [join(here, 'src', 'main.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['@sparq/source'],
    minify,
    sourcemap: minify ? false : 'inline',
    logLevel: 'warning',
  };
}

/** Builds the page in memory: `{ '/index.html', '/style.css', '/main.js' }` → contents. */
export async function buildInMemory({ minify = false } = {}) {
  const { readFile } = await import('node:fs/promises');
  const res = await build({ ...bundleOptions({ minify }), write: false, outfile: 'main.js' });
  return {
    '/index.html': await readFile(join(here, 'index.html'), 'utf8'),
    '/style.css': await readFile(join(here, 'style.css'), 'utf8'),
    '/main.js': res.outputFiles[0].text,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const minify = process.argv.includes('--minify');
  const out = join(here, 'dist');
  await mkdir(out, { recursive: true });
  await build({ ...bundleOptions({ minify }), outfile: join(out, 'main.js') });
  for (const f of ['index.html', 'style.css']) await copyFile(join(here, f), join(out, f));
  console.log(`built ${out}`);
}
