// Call descriptors: the JS side describes a kernel call in a block of u32
// words in wasm memory (packed.ts D_*, attention.ts A_*), so a job carries one
// pointer whatever the kernel's parameter count.

/** Word `i` of the descriptor at `d`. */
@inline export function dw(d: usize, i: i32): u32 {
  return load<u32>(d + (<usize>i << 2));
}
