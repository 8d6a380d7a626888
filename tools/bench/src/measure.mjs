// Timing with warm-up and order statistics. Medians and p90 rather than means:
// on a shared 2-vCPU machine single samples are disturbed by other processes.

/**
 * @typedef {object} MeasureOptions
 * @property {number} [warmup] untimed calls first (default 2): JIT tiers, page faults, caches
 * @property {number} [reps] minimum timed calls (default 10)
 * @property {number} [minTimeMs] keep sampling until this much time was measured (default 200)
 * @property {number} [maxReps] stop after this many samples whatever the time (default 1000)
 */

/**
 * @typedef {object} Measurement
 * @property {number} median ms
 * @property {number} p10 ms
 * @property {number} p90 ms
 * @property {number} min ms
 * @property {number[]} samples ms, in call order
 */

/**
 * Times `fn` (sync or async) and returns order statistics in milliseconds.
 * @param {() => unknown} fn
 * @param {MeasureOptions} [opts]
 * @returns {Promise<Measurement>}
 * @example
 * const m = await measure(() => work(), { warmup: 3, reps: 20 });
 * console.log(m.median, m.p90);
 */
export async function measure(fn, opts = {}) {
  const warmup = opts.warmup ?? 2;
  const reps = opts.reps ?? 10;
  const minTimeMs = opts.minTimeMs ?? 200;
  const maxReps = opts.maxReps ?? 1000;
  for (let i = 0; i < warmup; i++) await fn();
  /** @type {number[]} */
  const samples = [];
  let total = 0;
  while (samples.length < maxReps && (samples.length < reps || total < minTimeMs)) {
    const t0 = performance.now();
    await fn();
    const dt = performance.now() - t0;
    samples.push(dt);
    total += dt;
  }
  return summarize(samples);
}

/**
 * Order statistics of samples (ms).
 * @param {number[]} samples
 * @returns {Measurement}
 */
export function summarize(samples) {
  const s = [...samples].sort((x, y) => x - y);
  const q = (/** @type {number} */ f) => s[Math.min(s.length - 1, Math.floor(f * (s.length - 1) + 0.5))] ?? NaN;
  return { median: q(0.5), p10: q(0.1), p90: q(0.9), min: s[0] ?? NaN, samples };
}
