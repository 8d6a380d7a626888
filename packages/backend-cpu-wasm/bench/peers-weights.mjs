// Synthetic weights of the peer benchmarks (bench/peers.bench.mjs) in our packed
// formats, and their translation into the ONNX Runtime graphs that compute the
// same product: dense and 2:4 → MatMul on the f32 weight (ORT has no N:M kernel,
// so a 2:4 weight is what ORT would run dense); INT4 g128 and 2:4 + INT4 g128 →
// com.microsoft.MatMulNBits (bits 4, block 128, asymmetric: our 4-bit zero
// points map onto its uint8 zero_points); INT8 g128 and 2:4 + INT8 g128 → the
// same op with bits 8 (one zero-point byte per block). A 2:4 + quantized weight
// is expressed exactly: a pruned position gets its group's zero-point code,
// which dequantizes to exactly 0. The bench checks every translated graph against our reference
// decoder before timing, so a layout mistake here fails loudly.
import { decodeNM, f16ToF32 } from '@sparq/tensor';
import { matMulModel, matMulNBitsModel } from './onnx-graph.mjs';
import { f16Scales, indices24, randomBytes, uniform } from './synthetic.mjs';

export { uniform };

/** Quantization group (= MatMulNBits block_size). */
export const G = 128;

const f32Scales = (scales) => Float32Array.from(scales, f16ToF32);

/** `[n, k]` row-major → `[k, n]` row-major (ONNX MatMul's B). */
function transpose(w, n, k) {
  const out = new Float32Array(n * k);
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) out[c * n + r] = w[r * k + c];
  return out;
}

/**
 * MatMulNBits codes of a 2:4 + 8-bit weight: every column gets a byte; kept
 * slots carry their code, pruned columns their group's zero-point code.
 */
function nmQuant8ToNBits(w) {
  const { rows, cols } = w;
  const L = cols / 2;
  const groups = cols / G;
  const out = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const idx = w.indices.subarray((r * L) / 4, ((r + 1) * L) / 4);
    for (let g = 0; g < groups; g++) out.fill(w.zeros[r * groups + g], r * cols + g * G, r * cols + (g + 1) * G);
    for (let s = 0; s < L; s++) out[r * cols + (s >> 1) * 4 + ((idx[s >> 2] >> ((s & 3) * 2)) & 3)] = w.codes[r * L + s];
  }
  return out;
}

/**
 * MatMulNBits codes of a 2:4 + 4-bit weight: every column gets a nibble; kept
 * slots carry their code, pruned columns their group's zero-point code.
 */
function nmQuantToNBits(w) {
  const { rows, cols } = w;
  const L = cols / 2;
  const groups = cols / G;
  const zRow = Math.ceil(groups / 2);
  const out = new Uint8Array((rows * cols) / 2);
  const nib = (bytes, i) => (bytes[i >> 1] >> ((i & 1) * 4)) & 15;
  for (let r = 0; r < rows; r++) {
    const codes = w.codes.subarray((r * L) / 2, ((r + 1) * L) / 2);
    const idx = w.indices.subarray((r * L) / 4, ((r + 1) * L) / 4);
    const zeros = w.zeros.subarray(r * zRow, (r + 1) * zRow);
    const row = out.subarray((r * cols) / 2, ((r + 1) * cols) / 2);
    for (let g = 0; g < groups; g++) {
      const z = nib(zeros, g);
      row.fill(z | (z << 4), (g * G) / 2, ((g + 1) * G) / 2);
    }
    for (let s = 0; s < L; s++) {
      const col = (s >> 1) * 4 + ((idx[s >> 2] >> ((s & 3) * 2)) & 3);
      const q = nib(codes, s);
      row[col >> 1] = col & 1 ? (row[col >> 1] & 0x0f) | (q << 4) : (row[col >> 1] & 0xf0) | q;
    }
  }
  return out;
}

/**
 * The formats, each with: the kernel of ours that runs it, a maker of one random
 * `[n, k]` weight, its bytes in the sparq format (docs/format.md §2–§4), the ONNX
 * Runtime op that runs the same product, the bytes that op streams, and the
 * builder of its ONNX model.
 */
export const FORMATS = {
  dense: {
    kernel: 'matmulDense',
    peerOp: 'MatMul',
    make: (n, k) => ({ kind: 'dense', rows: n, cols: k, data: uniform(n * k, -1, 1) }),
    bytes: (n, k) => 4 * n * k,
    peerBytes: (n, k) => 4 * n * k,
    onnx: (w) => matMulModel({ k: w.cols, n: w.rows, bKN: transpose(w.data, w.rows, w.cols) }),
  },
  int4: {
    kernel: 'matmulQuant',
    peerOp: 'MatMulNBits',
    make: (n, k) => ({
      kind: 'quant', rows: n, cols: k, bits: 4, groupSize: G, sym: false,
      codes: randomBytes((n * k) / 2), scales: f16Scales((n * k) / G), zeros: randomBytes(Math.ceil(k / G / 2) * n),
    }),
    bytes: (n, k) => n * k * 0.5 + (n * k / G) * 2.5, // §2: 4-bit codes, f16 scales, 4-bit zeros
    peerBytes: (n, k) => n * k * 0.5 + (n * k / G) * 4.5, // f32 scales, 4-bit zero points
    // Same nibble order (low nibble = even column), same per-row zero-point packing: the bytes carry over.
    onnx: (w) => matMulNBitsModel({ k: w.cols, n: w.rows, b: w.codes, scales: f32Scales(w.scales), zeroPoints: w.zeros }),
  },
  int8: {
    kernel: 'matmulQuant',
    peerOp: 'MatMulNBits',
    make: (n, k) => ({
      kind: 'quant', rows: n, cols: k, bits: 8, groupSize: G, sym: false,
      codes: randomBytes(n * k), scales: f16Scales((n * k) / G), zeros: randomBytes((k / G) * n),
    }),
    bytes: (n, k) => n * k + (n * k / G) * 3, // §2: 8-bit codes, f16 scales, 8-bit zeros
    peerBytes: (n, k) => n * k + (n * k / G) * 5, // f32 scales, 8-bit zero points
    // Row-major bytes along K = MatMulNBits' [N, K/128, 128]; one zero-point byte per block, as ours.
    onnx: (w) => matMulNBitsModel({ k: w.cols, n: w.rows, bits: 8, b: w.codes, scales: f32Scales(w.scales), zeroPoints: w.zeros }),
  },
  '2:4': {
    kernel: 'matmulNM',
    peerOp: 'MatMul',
    make: (n, k) => ({ kind: 'nm', rows: n, cols: k, n: 2, m: 4, values: uniform((n * k) / 2, -1, 1), indices: indices24((n * k) / 8) }),
    bytes: (n, k) => n * k * 2 + n * k / 8, // §3: f32 kept values, 2-bit positions
    peerBytes: (n, k) => 4 * n * k,
    onnx: (w) => matMulModel({ k: w.cols, n: w.rows, bKN: transpose(decodeNM(w), w.rows, w.cols) }),
  },
  '2:4+int4': {
    kernel: 'matmulNMQuant',
    peerOp: 'MatMulNBits',
    make: (n, k) => ({
      kind: 'nm-quant', rows: n, cols: k, n: 2, m: 4, bits: 4, groupSize: G, sym: false,
      codes: randomBytes((n * k) / 4), scales: f16Scales((n * k) / G), zeros: randomBytes(Math.ceil(k / G / 2) * n), indices: indices24((n * k) / 8),
    }),
    bytes: (n, k) => n * k / 4 + n * k / 8 + (n * k / G) * 2.5, // §4
    peerBytes: (n, k) => n * k * 0.5 + (n * k / G) * 4.5,
    onnx: (w) => matMulNBitsModel({ k: w.cols, n: w.rows, b: nmQuantToNBits(w), scales: f32Scales(w.scales), zeroPoints: w.zeros }),
  },
  '2:4+int8': {
    kernel: 'matmulNMQuant',
    peerOp: 'MatMulNBits',
    make: (n, k) => ({
      kind: 'nm-quant', rows: n, cols: k, n: 2, m: 4, bits: 8, groupSize: G, sym: false,
      codes: randomBytes((n * k) / 2), scales: f16Scales((n * k) / G), zeros: randomBytes((k / G) * n), indices: indices24((n * k) / 8),
    }),
    bytes: (n, k) => n * k / 2 + n * k / 8 + (n * k / G) * 3, // §4
    peerBytes: (n, k) => n * k + (n * k / G) * 5,
    onnx: (w) => matMulNBitsModel({ k: w.cols, n: w.rows, bits: 8, b: nmQuant8ToNBits(w), scales: f32Scales(w.scales), zeroPoints: w.zeros }),
  },
};
