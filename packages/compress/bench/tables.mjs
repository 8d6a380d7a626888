// Markdown tables for docs/benchmarks/pruning.md and quantization.md from the
// JSON that `pnpm bench` (bench/tables.run.ts) writes:
//   node bench/tables.mjs [../../docs/benchmarks/compress-stories260k.json]
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] ?? resolve(here, '..', '..', '..', 'docs', 'benchmarks', 'compress-stories260k.json');
const { rows, machine, calibration } = JSON.parse(readFileSync(file, 'utf8'));
const by = new Map(rows.map((r) => [r.name, r]));
const dense = by.get('dense');

const f = (v, d = 2) => (v === undefined ? '' : v.toFixed(d));
const mib = (b) => (b === undefined ? '' : `${(b / 2 ** 20).toFixed(0)}`);
function table(title, names, cols) {
  const head = ['config', ...cols.map((c) => c[0])];
  const lines = [`### ${title}`, '', `| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const [label, name] of names) {
    const r = by.get(name);
    if (!r) continue;
    lines.push(`| ${label} | ${cols.map((c) => c[1](r)).join(' | ')} |`);
  }
  return lines.join('\n');
}

const common = [
  ['PPL', (r) => f(r.perplexity, 3)],
  ['ΔPPL', (r) => (r.name === 'dense' ? '' : `${r.perplexity >= dense.perplexity ? '+' : '−'}${f(Math.abs(r.perplexity - dense.perplexity), 3)}`)],
  ['bits/w linears', (r) => f(r.linearBits, 3)],
  ['bits/w model', (r) => f(r.modelBits, 3)],
  ['mean rel. err', (r) => (r.meanRelError === undefined ? '' : r.meanRelError.toExponential(2))],
  ['time s', (r) => f(r.compressSeconds, 1)],
  ['peak RSS MiB', (r) => mib(r.peakRssBytes)],
];

console.log(`machine: ${machine.cpu}, ${machine.vcpus} vCPU, ${machine.node}, ${machine.backend}, ${machine.date}`);
console.log(`calibration: ${JSON.stringify(calibration)}\n`);
console.log(
  table(
    'Pruning (50 % of every linear)',
    [
      ['dense', 'dense'],
      ...['magnitude', 'wanda', 'sparsegpt'].flatMap((m) => [
        [`${m} 50 %`, `${m}-50`],
        [`${m} 2:4`, `${m}-2of4`],
        [`${m} 4:8`, `${m}-4of8`],
      ]),
    ],
    [['sparsity', (r) => (r.sparsity === undefined ? '0' : `${f(100 * r.sparsity, 1)} %`)], ...common],
  ),
);
console.log('');
console.log(
  table(
    'Quantization',
    [
      ['dense', 'dense'],
      ['RTN W8 per-channel', 'rtn-w8'],
      ['GPTQ W8 per-channel', 'gptq-w8'],
      ['RTN W4 g32', 'rtn-w4-g32'],
      ['GPTQ W4 g32', 'gptq-w4-g32'],
      ['GPTQ W4 g32 act-order (static groups)', 'gptq-w4-g32-actorder'],
      ['RTN W4 per-channel', 'rtn-w4-pc'],
      ['GPTQ W4 per-channel', 'gptq-w4-pc'],
      ['RTN W3 g32', 'rtn-w3-g32'],
      ['GPTQ W3 g32', 'gptq-w3-g32'],
      ['RTN W3 per-channel', 'rtn-w3-pc'],
      ['GPTQ W3 per-channel', 'gptq-w3-pc'],
      ['RTN W2 g32', 'rtn-w2-g32'],
      ['GPTQ W2 g32', 'gptq-w2-g32'],
      ['SpQR W3 g16, 3-bit stats, outliers', 'spqr-w3-g16'],
      ['SpQR W4 g16, 3-bit stats, outliers', 'spqr-w4-g16'],
      ['SparseGPT 2:4 then RTN W4', 'sparsegpt-2of4-then-rtn-w4'],
      ['SparseGPT 2:4 + W4 joint', 'joint-2of4-w4'],
    ],
    common,
  ),
);
