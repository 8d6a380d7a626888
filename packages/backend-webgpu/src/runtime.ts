/// <reference types="@webgpu/types" />
/**
 * The per-backend GPU runtime: the device, its limits, the pipeline cache,
 * buffer upload/readback, and `execute()` — encode a list of dispatches,
 * submit, read the output back.
 */
import { SparqError } from '@sparq/tensor';
import { deviceLostError, withErrorScopes } from './gpu-errors';

/** One compute dispatch. */
export interface Dispatch {
  /** Pipeline cache key (the WGSL is compiled once per key). */
  key: string;
  /** The WGSL, produced only on a cache miss. */
  wgsl: () => string;
  /** Uniform block (binding 0). */
  uniforms: ArrayBufferView;
  /** Storage buffers of bindings 1, 2, …, in order. */
  buffers: readonly GPUBuffer[];
  /** Workgroup grid. */
  grid: readonly [number, number];
}

const STORAGE_IN = 0x0080 | 0x0008; // STORAGE | COPY_DST (GPUBufferUsage is absent from Node's globals)
const STORAGE_OUT = 0x0080 | 0x0004; // STORAGE | COPY_SRC
const READBACK = 0x0001 | 0x0008; // MAP_READ | COPY_DST
const UNIFORM = 0x0040; // UNIFORM
const MAP_READ = 0x0001;

/** Bytes of a typed array view. */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The GPU state of one backend instance. */
export class GpuRuntime {
  /** Set by device.lost; every later call throws it. */
  lost: SparqError | undefined;
  /** Binding size weights are split to fit (the device limit, or a smaller cap for tests). */
  readonly maxBinding: number;
  /** The device's storage binding limit (per-call inputs must fit it; they are not split). */
  readonly deviceMaxBinding: number;
  /** Largest workgroup grid dimension. */
  readonly maxGrid: number;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /**
   * Benchmarks only: each `execute` encodes its dispatches this many times in
   * one submission (idempotent: same output) and records the GPU-side wall
   * time in {@link lastSeconds}, so per-call upload/readback latency is amortised.
   */
  repeat = 1;
  /** Seconds from submit to readback of the last `execute` (including its repeats). */
  lastSeconds = 0;
  // Runs are serialised: WebGPU error scopes are one stack per device, so
  // overlapping runs would attribute each other's errors.
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `job` after every earlier one has finished (errors do not break the chain). */
  exclusive<T>(job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(job, job);
    this.tail = next.catch(() => undefined);
    return next;
  }

  constructor(
    readonly device: GPUDevice,
    maxBindingCap?: number,
  ) {
    this.deviceMaxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.maxBinding = Math.min(this.deviceMaxBinding, maxBindingCap ?? Infinity);
    this.maxGrid = device.limits.maxComputeWorkgroupsPerDimension;
    // Every later call throws this (a destroyed device, e.g. after dispose(), included).
    void device.lost.then((info) => {
      this.lost = deviceLostError(info);
    });
  }

  /** Throws the device-lost error, if any. */
  check(): void {
    if (this.lost) throw this.lost;
  }

  /** Uploads bytes into a new storage buffer (padded to 4 bytes plus two words, see `BUFFER_SLACK`). */
  upload(data: ArrayBufferView, label: string): GPUBuffer {
    const bytes = bytesOf(data);
    const size = Math.max(16, Math.ceil(bytes.byteLength / 4) * 4 + 8);
    const buf = this.device.createBuffer({ label, size, usage: STORAGE_IN, mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(bytes);
    buf.unmap();
    return buf;
  }

  private pipeline(d: Dispatch): GPUComputePipeline {
    let p = this.pipelines.get(d.key);
    if (!p) {
      const module = this.device.createShaderModule({ label: d.key, code: d.wgsl() });
      p = this.device.createComputePipeline({ label: d.key, layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.pipelines.set(d.key, p);
    }
    return p;
  }

  /**
   * Encodes the dispatches `build` returns (given the `outFloats`-f32 output
   * buffer and `temp`, which uploads per-call inputs), submits them in order,
   * and returns the output. Every buffer made here is destroyed afterwards.
   */
  async execute(
    what: string,
    outFloats: number,
    build: (out: GPUBuffer, temp: (data: ArrayBufferView, label: string) => GPUBuffer) => Dispatch[],
  ): Promise<Float32Array> {
    this.check();
    const outBytes = Math.max(16, outFloats * 4);
    const owned: GPUBuffer[] = [];
    const temp = (data: ArrayBufferView, label: string): GPUBuffer => {
      const b = this.upload(data, label);
      owned.push(b);
      return b;
    };
    try {
      return await withErrorScopes(this.device, what, outBytes * 2, async () => {
        const out = this.device.createBuffer({ label: `${what}: out`, size: outBytes, usage: STORAGE_OUT });
        const staging = this.device.createBuffer({ label: `${what}: readback`, size: outBytes, usage: READBACK });
        owned.push(out, staging);
        const enc = this.device.createCommandEncoder({ label: what });
        const dispatches = build(out, temp);
        for (let rep = 0; rep < this.repeat; rep++) for (const d of dispatches) {
          const pipeline = this.pipeline(d);
          const ub = this.device.createBuffer({ label: `${d.key}: params`, size: Math.max(16, Math.ceil(d.uniforms.byteLength / 16) * 16), usage: UNIFORM, mappedAtCreation: true });
          owned.push(ub);
          new Uint8Array(ub.getMappedRange()).set(bytesOf(d.uniforms));
          ub.unmap();
          const bind = this.device.createBindGroup({
            layout: pipeline.getBindGroupLayout(0),
            entries: [{ binding: 0, resource: { buffer: ub } }, ...d.buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } }))],
          });
          const pass = enc.beginComputePass({ label: d.key });
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, bind);
          pass.dispatchWorkgroups(d.grid[0], d.grid[1]);
          pass.end();
        }
        enc.copyBufferToBuffer(out, 0, staging, 0, outBytes);
        const commands = enc.finish();
        const t0 = performance.now();
        this.device.queue.submit([commands]);
        try {
          await staging.mapAsync(MAP_READ);
        } catch (e) {
          this.check();
          throw new SparqError('E_NO_BACKEND', `WebGPU readback failed while ${what}: ${(e as Error).message}`, { cause: e });
        }
        this.lastSeconds = (performance.now() - t0) / 1000;
        const result = new Float32Array(staging.getMappedRange().slice(0, outFloats * 4));
        staging.unmap();
        return result;
      });
    } finally {
      for (const b of owned) b.destroy();
    }
  }

  /** Grid for `count` workgroups folded into two dimensions (kernels recover `x + y · nx`). */
  grid(count: number): [number, number] {
    if (count <= this.maxGrid) return [Math.max(count, 1), 1];
    const y = Math.ceil(count / this.maxGrid);
    return [Math.ceil(count / y), y];
  }
}
