#!/usr/bin/env node
// Builds native/build/sparq_cuda.node when nvcc is available, without node-gyp:
// nvcc compiles kernels/*.cu for sm_80 and sm_90, g++ compiles the N-API glue
// against Node's own headers and node-addon-api, and the .node is linked with
// the static CUDA runtime (no libcudart.so needed where it runs; only the
// driver). Without nvcc it prints why and exits 0: the package still installs
// and reports "CUDA backend unavailable: <reason>" at run time.
// Recompiles only when a source, this script or the toolchain changed (hash
// stamp); the .node is written to a temp file and renamed (atomic).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const native = join(pkg, 'native');
const out = join(native, 'build');
const target = join(out, 'sparq_cuda.node');
const stampFile = join(out, 'stamp.json');
// sm_80 (A100) and sm_90 (H100/H200) machine code, plus compute_90 PTX that newer GPUs can JIT-compile.
const ARCHS = ['-gencode', 'arch=compute_80,code=sm_80', '-gencode', 'arch=compute_90,code=sm_90', '-gencode', 'arch=compute_90,code=compute_90'];

/** The first nvcc found: $CUDA_HOME/bin, PATH, /usr/local/cuda/bin. */
function findNvcc() {
  const candidates = [];
  if (process.env.CUDA_HOME) candidates.push(join(process.env.CUDA_HOME, 'bin', 'nvcc'));
  if (process.env.CUDA_PATH) candidates.push(join(process.env.CUDA_PATH, 'bin', 'nvcc'));
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) candidates.push(join(dir, 'nvcc'));
  candidates.push('/usr/local/cuda/bin/nvcc');
  return candidates.find((p) => existsSync(p));
}

function skip(reason) {
  console.log(`skipping CUDA addon: ${reason}`);
  process.exit(0);
}

if (process.env.SPARQ_CUDA_SKIP_BUILD) skip('SPARQ_CUDA_SKIP_BUILD is set');
const nvcc = findNvcc();
if (!nvcc) skip('nvcc not found (set CUDA_HOME to a CUDA ≥ 12 toolkit, or put nvcc on PATH); the backend will report itself unavailable');
// nvcc on PATH may be a wrapper script (e.g. /usr/local/bin/nvcc): look for the
// toolkit (headers + static runtime) next to it, at CUDA_HOME, and at /usr/local/cuda.
const homes = [process.env.CUDA_HOME, process.env.CUDA_PATH, resolve(dirname(realpathSync(nvcc)), '..'), '/usr/local/cuda'].filter(Boolean);
const libDirsOf = (h) => ['lib64', 'lib', 'targets/x86_64-linux/lib'].map((d) => join(h, d)).filter((d) => existsSync(join(d, 'libcudart_static.a')));
const cudaHome = homes.find((h) => existsSync(join(h, 'include', 'cuda_runtime_api.h')) && libDirsOf(h).length > 0);
if (!cudaHome) skip(`no CUDA toolkit with include/cuda_runtime_api.h and libcudart_static.a found (tried ${homes.join(', ')})`);
const cudaInclude = join(cudaHome, 'include');
const cudaLibDirs = libDirsOf(cudaHome);
const nodeInclude = resolve(dirname(process.execPath), '..', 'include', 'node');
if (!existsSync(join(nodeInclude, 'node_api.h'))) skip(`Node headers not found at ${nodeInclude} (node_api.h)`);
const napiInclude = dirname(createRequire(import.meta.url).resolve('node-addon-api/package.json'));
const cxx = process.env.CXX ?? 'g++';

const kernels = readdirSync(join(native, 'kernels')).filter((f) => f.endsWith('.cu')).sort();
const sources = ['addon.cc', 'launch.h', ...readdirSync(join(native, 'kernels')).sort().map((f) => `kernels/${f}`)];
const hash = createHash('sha256');
for (const s of sources) hash.update(s).update(readFileSync(join(native, s)));
hash.update(readFileSync(fileURLToPath(import.meta.url)));
const nvccVersion = execFileSync(nvcc, ['--version'], { encoding: 'utf8' });
hash.update(nvccVersion).update(process.version).update(cxx);
const stamp = hash.digest('hex');
if (existsSync(target) && existsSync(stampFile) && JSON.parse(readFileSync(stampFile, 'utf8')).stamp === stamp) {
  console.log('CUDA addon up to date (sources unchanged)');
  process.exit(0);
}

mkdirSync(out, { recursive: true });
const t0 = Date.now();
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
const objects = kernels.map((k) => join(out, k.replace(/\.cu$/, '.o')));
const cuFlags = ['-std=c++17', '-O3', '-Xcompiler', '-fPIC', ...ARCHS];

// The .cu files are independent: compile them in parallel (bounded by the cores).
async function compileKernels() {
  const { spawn } = await import('node:child_process');
  const queue = kernels.map((k, i) => [join(native, 'kernels', k), objects[i]]);
  const width = Math.max(1, Math.min(cpus().length, 4));
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const [src, obj] = job;
      await new Promise((ok, fail) => {
        const p = spawn(nvcc, [...cuFlags, '-c', src, '-o', obj], { stdio: ['ignore', 'inherit', 'inherit'] });
        p.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`nvcc failed on ${src} (exit ${code})`))));
      });
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

try {
  await compileKernels();
  const glue = join(out, 'addon.o');
  run(cxx, [
    '-std=c++17', '-O2', '-fPIC', '-fexceptions', '-DNAPI_CPP_EXCEPTIONS', '-DNAPI_VERSION=8', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    `-I${nodeInclude}`, `-I${napiInclude}`, `-I${cudaInclude}`, '-c', join(native, 'addon.cc'), '-o', glue,
  ]);
  const tmp = `${target}.tmp-${process.pid}`;
  // nvcc links the device code (static cudart, sm_80 + sm_90 cubins) into a shared object.
  run(nvcc, [...ARCHS, '-shared', '-Xcompiler', '-fPIC', '-cudart', 'static', ...objects, glue, '-o', tmp, ...cudaLibDirs.map((d) => `-L${d}`), '-lrt', '-ldl', '-lpthread']);
  renameSync(tmp, target);
  writeFileSync(stampFile, JSON.stringify({ stamp, nvcc, built: new Date().toISOString() }, null, 2));
  console.log(`built ${target} in ${((Date.now() - t0) / 1000).toFixed(1)} s (nvcc ${nvccVersion.match(/release [\d.]+/)?.[0] ?? '?'})`);
} catch (e) {
  rmSync(stampFile, { force: true });
  console.error(`CUDA addon build failed: ${e.message}`);
  process.exit(1);
}
