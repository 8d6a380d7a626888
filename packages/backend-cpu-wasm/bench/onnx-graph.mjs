// A tiny ONNX model builder for the peer benchmarks (bench/peers.bench.mjs):
// one-node graphs `Y = MatMul(A, B)` and `Y = com.microsoft.MatMulNBits(A, B,
// scales[, zero_points])` with the weights as initializers, encoded straight to
// protobuf bytes. There is no onnx builder among our dependencies and
// protobufjs is not resolvable from this package, and the handful of fields
// needed is small, so they are written by hand. Field numbers follow onnx.proto
// (github.com/onnx/onnx/blob/main/onnx/onnx.proto):
//   ModelProto      ir_version=1 (int64), graph=7, opset_import=8
//   OperatorSetId   domain=1 (string), version=2 (int64)
//   GraphProto      node=1, name=2, initializer=5, input=11, output=12
//   NodeProto       input=1, output=2, name=3, op_type=4, attribute=5, domain=7
//   AttributeProto  name=1, i=3, type=20 (AttributeType INT = 2)
//   TensorProto     dims=1 (int64), data_type=2 (FLOAT = 1, UINT8 = 2), name=8, raw_data=9 (little-endian)
//   ValueInfoProto  name=1, type=2; TypeProto tensor_type=1; TypeProto.Tensor elem_type=1, shape=2;
//   TensorShapeProto dim=1; Dimension dim_value=1, dim_param=2
// Messages are kept as lists of byte chunks so the (up to hundreds of MB)
// weight bytes are copied once, when the model is flattened.

const ONNX_FLOAT = 1;
const ONNX_UINT8 = 2;
const ATTR_INT = 2;

/** A protobuf message under construction: its byte chunks and their total length. */
class Msg {
  constructor() {
    this.chunks = [];
    this.length = 0;
  }
  push(bytes) {
    this.chunks.push(bytes);
    this.length += bytes.length;
    return this;
  }
  /** Varint field (wire type 0); `v` a non-negative safe integer. */
  varint(field, v) {
    return this.push(concatSmall(varintBytes((field << 3) | 0), varintBytes(v)));
  }
  /** Length-delimited field (wire type 2) holding raw bytes. */
  bytes(field, b) {
    this.push(concatSmall(varintBytes((field << 3) | 2), varintBytes(b.length)));
    return this.push(b);
  }
  string(field, s) {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  /** Length-delimited field holding a nested message (its chunks are shared, not copied). */
  msg(field, m) {
    this.push(concatSmall(varintBytes((field << 3) | 2), varintBytes(m.length)));
    for (const c of m.chunks) this.push(c);
    return this;
  }
  /** The encoded message as one buffer. */
  toBytes() {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function varintBytes(v) {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`onnx-graph: varint needs a non-negative safe integer, found ${v}`);
  const out = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

function concatSmall(...parts) {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function tensor(name, dataType, dims, data) {
  const t = new Msg();
  for (const d of dims) t.varint(1, d);
  t.varint(2, dataType).string(8, name);
  return t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** `name: elemType [dims]`, a dim given as a string is symbolic (dim_param). */
function valueInfo(name, elemType, dims) {
  const shape = new Msg();
  for (const d of dims) shape.msg(1, typeof d === 'string' ? new Msg().string(2, d) : new Msg().varint(1, d));
  const tensorType = new Msg().varint(1, elemType).msg(2, shape);
  return new Msg().string(1, name).msg(2, new Msg().msg(1, tensorType));
}

function intAttr(name, v) {
  return new Msg().string(1, name).varint(3, v).varint(20, ATTR_INT);
}

function model({ node, initializers, k, n, opsets }) {
  const graph = new Msg().msg(1, node).string(2, 'sparq-peer');
  for (const init of initializers) graph.msg(5, init);
  graph.msg(11, valueInfo('A', ONNX_FLOAT, ['M', k])).msg(12, valueInfo('Y', ONNX_FLOAT, ['M', n]));
  const m = new Msg().varint(1, 8); // IR version 8 (ONNX 1.13+)
  m.msg(7, graph);
  for (const [domain, version] of opsets) m.msg(8, new Msg().string(1, domain).varint(2, version));
  return m.toBytes();
}

/**
 * `Y[M, N] = A[M, K] · B[K, N]` (ONNX MatMul, opset 17). `bKN` is the weight
 * as ONNX wants it, `[K, N]` row-major, i.e. our `[N, K]` weight transposed.
 */
export function matMulModel({ k, n, bKN }) {
  if (bKN.length !== k * n) throw new Error(`onnx-graph: MatMul B must have ${k}·${n} values, found ${bKN.length}`);
  const node = new Msg().string(1, 'A').string(1, 'B').string(2, 'Y').string(3, 'matmul').string(4, 'MatMul');
  return model({ node, initializers: [tensor('B', ONNX_FLOAT, [k, n], bKN)], k, n, opsets: [['', 17]] });
}

/**
 * `Y[M, N] = A[M, K] · dequant(B)ᵀ` (com.microsoft.MatMulNBits, contrib opset 1):
 * `B` uint8 `[N, K/blockSize, blockSize·bits/8]` with codes packed low-bits-first
 * along K; `scales` f32 `[N·K/blockSize]`; optional `zeroPoints` uint8 packed the
 * same way per row (`[N · ceil(K/blockSize · bits/8)]`; without them the zero
 * point is 2^(bits−1)); `w = (q − zero) · scale`. `accuracyLevel` 4 selects the
 * int8-activation kernels where the build has them.
 */
export function matMulNBitsModel({ k, n, bits = 4, blockSize = 128, accuracyLevel = 4, b, scales, zeroPoints }) {
  const kBlocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  if (b.length !== n * kBlocks * blob) throw new Error(`onnx-graph: MatMulNBits B must have ${n * kBlocks * blob} bytes, found ${b.length}`);
  if (scales.length !== n * kBlocks) throw new Error(`onnx-graph: MatMulNBits scales must have ${n * kBlocks} values, found ${scales.length}`);
  const zpRow = Math.ceil((kBlocks * bits) / 8);
  if (zeroPoints && zeroPoints.length !== n * zpRow) throw new Error(`onnx-graph: MatMulNBits zero_points must have ${n * zpRow} bytes, found ${zeroPoints.length}`);
  const node = new Msg().string(1, 'A').string(1, 'B').string(1, 'scales');
  if (zeroPoints) node.string(1, 'zero_points');
  node.string(2, 'Y').string(3, 'matmul_nbits').string(4, 'MatMulNBits');
  for (const [name, v] of [['K', k], ['N', n], ['bits', bits], ['block_size', blockSize], ['accuracy_level', accuracyLevel]]) node.msg(5, intAttr(name, v));
  node.string(7, 'com.microsoft');
  const initializers = [tensor('B', ONNX_UINT8, [n, kBlocks, blob], b), tensor('scales', ONNX_FLOAT, [n * kBlocks], scales)];
  if (zeroPoints) initializers.push(tensor('zero_points', ONNX_UINT8, [n * zpRow], zeroPoints));
  return model({ node, initializers, k, n, opsets: [['', 17], ['com.microsoft', 1]] });
}
