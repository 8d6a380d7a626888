// Call descriptors: the JS side describes a kernel call in a block of u32
// words in wasm memory (packed.ts D_*, attention.ts A_*), so a job carries one
// pointer whatever the kernel's parameter count.

/** Word `i` of the descriptor at `d`. */
@inline export function dw(d: usize, i: i32): u32 {
  return load<u32>(d + (<usize>i << 2));
}

/**
 * Byte offset, inside the descriptor block (after its words), of the kernels' v128 constants,
 * written by the caller with every descriptor (PACKED_CONSTANTS in
 * src/kernels/matmul-packed.ts), one 16-byte vector each (C_*). The kernels
 * load them once per call: as v128 constants, V8 11.3 re-created them inside
 * the loops (3–4 instructions per use; the GEMVs measured 3–9 % slower).
 */
export const D_CONST: usize = 256;
export const C_J: usize = 0; // bytes 0, 1, 2, 3 repeated
export const C_0C: usize = 16; // byte splats of 0x0c, 1, 2, 0x0f
export const C_01: usize = 32;
export const C_02: usize = 48;
export const C_0F: usize = 64;
export const C_M0: usize = 80; // i16 splats of 0x000f, 0x00f0, 0x0f00
export const C_M1: usize = 96;
export const C_M2: usize = 112;
export const C_ONES16: usize = 128; // i16 splat of 1
export const C_80: usize = 144; // byte splat of 0x80 (the 4:8 GEMV, nm48.ts)
export const C_NM48: usize = 160; // the 4:8 GEMV's slot-byte table
