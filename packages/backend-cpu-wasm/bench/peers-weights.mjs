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
import { benchFormats, f16Scales, indices24, randomBytes, uniform } from './synthetic.mjs';

export { uniform };

/** Quantization group (= MatMulNBits block_size). */
export const G = 128;

const f32Scales = (scales) => Float32Array.from(scales, f16ToF32);

/** The kernel benchmarks' formats (bench/synthetic.mjs), whose makers the 8-bit peer formats reuse. */
const SYNTH = benchFormats(G);

/** `[n, k]` row-major → `[k, n]` row-major (ONNX MatMul's B). */
function transpose(w, n, k) {
  const out = new Float32Array(n * k);
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) out[c * n + r] = w[r * k + c];
  return out;
}

/**
 * MatMulNBits codes of a 2:4 + 4- or 8-bit weight: every column gets a code
 * (a nibble, low first, or a byte); kept slots carry their own, pruned columns
 * their group's zero-point code.
 */
function nmQuantToNBits(w) {
  const { rows, cols, bits } = w;
  const L = cols / 2;
  const groups = cols / G;
  const per = 8 / bits; // codes per byte
  const get = (bytes, i) => (bytes[Math.floor(i / per)] >> ((i % per) * bits)) & ((1 << bits) - 1);
  const out = new Uint8Array((rows * cols) / per);
  const set = (i, q) => {
    const b = Math.floor(i / per);
    const sh = (i % per) * bits;
    out[b] = (out[b] & ~(((1 << bits) - 1) << sh)) | (q << sh);
  };
  const zRow = Math.ceil(groups / per);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const z = get(w.zeros, r * zRow * per + g);
      for (let c = g * G; c < (g + 1) * G; c++) set(r * cols + c, z);
    }
    for (let s = 0; s < L; s++) {
      const idx = w.indices[(r * L + s) >> 2]; // 2-bit positions, 4 per byte (L % 4 = 0)
      set(r * cols + (s >> 1) * 4 + ((idx >> ((s & 3) * 2)) & 3), get(w.codes, r * L + s));
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
    ...SYNTH.int8,
    peerOp: 'MatMulNBits',
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
    ...SYNTH['2:4+int8'],
    peerOp: 'MatMulNBits',
    peerBytes: (n, k) => n * k + (n * k / G) * 5,
    onnx: (w) => matMulNBitsModel({ k: w.cols, n: w.rows, bits: 8, b: nmQuantToNBits(w), scales: f32Scales(w.scales), zeroPoints: w.zeros }),
  },
};
