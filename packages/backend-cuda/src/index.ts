/**
 * @sparq/backend-cuda — the CUDA backend of sparq: a Node N-API addon
 * (native/, built with nvcc when present) with tensor-core kernels for dense
 * f16, INT4 group-dequant, 2:4 sparse (`mma.sp`) and 2:4 + INT4 GEMM/GEMV, plus
 * the host-side packing of sparq's formats into the layouts those kernels read.
 * Without a GPU it loads and reports why it is unavailable.
 * @packageDocumentation
 */
export { createCudaBackend } from './backend';
export type { CudaBackendOptions, CudaContext, DeviceWeight } from './context';
export { cudaKernels } from './kernels/index';
export { cudaPackedPath } from './kernels/matmul-packed';
export type { CudaPackedPath } from './kernels/matmul-packed';
export { addonPath, cudaStatus, loadCudaAddon } from './native';
export type { AddonLoad, CudaAddon, CudaDeviceInfo, CudaInitStatus, DevicePtr, LaunchArgs } from './native';
export {
  emulateF16FragmentReads,
  emulateInt4FragmentReads,
  fragmentElement,
  fragmentOffset,
  packF16Fragments,
  packInt4Fragments,
  roundUp,
} from './packing/fragments';
export { groupStatsF16 } from './packing/group-stats';
export type { GroupStatsF16 } from './packing/group-stats';
export { packInt4 } from './packing/int4';
export type { Int4Packed } from './packing/int4';
export { emulateSparse24, metaWordIndex, metaWords, mmaSpColumn, packSparse24F16, packSparse24Int4 } from './packing/sparse24';
export type { Sparse24F16, Sparse24Int4, Sparse24Shape } from './packing/sparse24';
export { spqrToF16Fragments } from './packing/spqr';
export type { SpqrF16 } from './packing/spqr';
