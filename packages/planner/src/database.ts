/**
 * The levels database: every compressible unit compressed at every level of
 * a ladder, built once with the chosen method and stored on disk as one sparq
 * container per level (a uniform compression of the whole model at that
 * level, by the layer-by-layer driver). Candidates are stitched from it:
 * unit u at level l reads `u` from level l's container, lazily, on first use.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compressModel, modelLinears, validateRecipe, type CompressProgress, type Recipe } from '@sparq/compress';
import { openSparqContainer, type SparqContainer } from '@sparq/format';
import type { CausalLM, Tokenizer } from '@sparq/lm';
import { SparqError, Tensor } from '@sparq/tensor';
import { keptCosts, parseLadder, type Ladder, type Level } from './ladder';
import type { PlanUnit, SearchSpace } from './space';

/** What `database.json` records. */
export interface DatabaseManifest {
  format: 'sparq-levels';
  version: 1;
  model: string;
  ladder: string;
  /** The base recipe; each level overrides its pattern or bits. */
  recipe: Recipe;
  units: { name: string; rows: number; cols: number }[];
  /** Container folder (relative) of each level; null for the dense level. */
  levelDirs: (string | null)[];
  /** Exact cost of each unit at each level. */
  costs: number[][];
  /** Seconds spent compressing each level. */
  seconds: number[];
}

/** The recipe of a uniform compression at `level` (every target at that pattern / bit-width). */
export function levelRecipe(base: Recipe, ladder: Ladder, level: Level): Recipe {
  if (level.dense) throw new SparqError('E_INTERNAL', 'the dense level needs no recipe');
  const stages = base.stages.map((s) => {
    if (ladder.kind !== 'bits' && (s.type === 'prune' || s.type === 'joint')) return { ...s, pattern: level.pattern! };
    if (ladder.kind === 'bits' && (s.type === 'quantize' || s.type === 'joint')) return { ...s, bits: level.bits! };
    return s;
  });
  return validateRecipe({ ...base, stages, overrides: [] });
}

function dirName(label: string): string {
  return `level-${label.replace(/[^A-Za-z0-9]+/g, '_')}`;
}

/** Options of {@link buildLevelDatabase}. */
export interface BuildDatabaseOptions {
  model: CausalLM;
  modelPath: string;
  tokenizer: Tokenizer;
  tokenizerFiles?: readonly string[];
  /** Base recipe: its prune (sparsity / N:M ladders) or quantize (bits ladders) stage gives the method. */
  recipe: Recipe;
  ladder: Ladder;
  /** Database folder; reused when its `database.json` matches (model, ladder, recipe). */
  dir: string;
  onProgress?(p: { level: string; levels: number; index: number } & Partial<CompressProgress>): void;
}

/**
 * Builds (or reuses) the database: one `compressModel` run per non-dense
 * level. Each run reloads the source weights first, so levels are
 * independent. Costs: kept weights (sparsity, N:M) or exact stored bits from
 * each level container's accounting (bits).
 */
export async function buildLevelDatabase(o: BuildDatabaseOptions): Promise<DatabaseManifest> {
  const manifestPath = join(o.dir, 'database.json');
  const units = modelLinears(o.model);
  if (existsSync(manifestPath)) {
    const m = JSON.parse(await readFile(manifestPath, 'utf8')) as DatabaseManifest;
    if (m.model === o.modelPath && m.ladder === o.ladder.spec && JSON.stringify(m.recipe) === JSON.stringify(o.recipe)) return m;
    throw new SparqError('E_ARG', `${o.dir} holds a levels database for different settings (model, ladder or recipe)`, {
      details: { file: manifestPath, expected: { model: o.modelPath, ladder: o.ladder.spec }, found: { model: m.model, ladder: m.ladder } },
      hint: 'pass another --db folder or delete this one',
    });
  }
  await mkdir(o.dir, { recursive: true });
  const levelDirs: (string | null)[] = [];
  const seconds: number[] = [];
  for (let i = 0; i < o.ladder.levels.length; i++) {
    const level = o.ladder.levels[i]!;
    o.onProgress?.({ level: level.label, levels: o.ladder.levels.length, index: i });
    if (level.dense) {
      levelDirs.push(null);
      seconds.push(0);
      continue;
    }
    const name = dirName(level.label);
    const out = join(o.dir, name);
    const t0 = performance.now();
    if (!existsSync(out)) {
      // Start every level from the source weights.
      for (let b = 0; b < o.model.numBlocks; b++) o.model.unloadBlock(b, { discardOverrides: true });
      await compressModel({
        model: o.model,
        tokenizer: o.tokenizer,
        recipe: levelRecipe(o.recipe, o.ladder, level),
        out,
        ...(o.tokenizerFiles ? { tokenizerFiles: o.tokenizerFiles } : {}),
        onProgress: (p) => o.onProgress?.({ level: level.label, levels: o.ladder.levels.length, index: i, ...p }),
      });
    }
    for (let b = 0; b < o.model.numBlocks; b++) o.model.unloadBlock(b, { discardOverrides: true });
    levelDirs.push(name);
    seconds.push((performance.now() - t0) / 1000);
  }
  const costs = await unitCosts(o.ladder, units, levelDirs.map((d) => (d ? join(o.dir, d) : null)));
  const manifest: DatabaseManifest = {
    format: 'sparq-levels',
    version: 1,
    model: o.modelPath,
    ladder: o.ladder.spec,
    recipe: o.recipe,
    units,
    levelDirs,
    costs,
    seconds,
  };
  const tmp = `${manifestPath}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(tmp, manifestPath);
  return manifest;
}

async function unitCosts(ladder: Ladder, units: { name: string; rows: number; cols: number }[], dirs: (string | null)[]): Promise<number[][]> {
  if (ladder.kind !== 'bits') return units.map((u) => keptCosts(ladder, u.rows * u.cols));
  const perLevel: (Map<string, number> | null)[] = [];
  for (const d of dirs) {
    if (!d) {
      perLevel.push(null);
      continue;
    }
    const c = await openSparqContainer(d);
    try {
      perLevel.push(new Map(c.accounting().weights.map((w) => [w.name, w.totalBits])));
    } finally {
      await c.close();
    }
  }
  return units.map((u) =>
    perLevel.map((m) => {
      if (!m) return u.rows * u.cols * 16; // dense counted as f16, the usual deployment dtype
      const bits = m.get(`${u.name}.weight`) ?? m.get(u.name);
      if (bits === undefined) throw new SparqError('E_CONTAINER', `levels database: ${u.name} missing from a level container's accounting`);
      return bits;
    }),
  );
}

/** The search space of a database. */
export function databaseSpace(m: DatabaseManifest): SearchSpace {
  const ladder = parseLadder(m.ladder);
  const units: PlanUnit[] = m.units.map((u, i) => ({ name: u.name, params: u.rows * u.cols, levelCosts: m.costs[i]! }));
  return { units, levels: ladder.levels.map((l) => l.label) };
}

/**
 * Lazy reader of unit weights by level: opens level containers on first use
 * and caches decoded weights (small models fit; large ones should bound the
 * cache — see `maxCachedBytes`).
 */
export class LevelDatabase {
  private readonly open = new Map<number, Promise<SparqContainer>>();
  private readonly cache = new Map<string, Tensor<'f32'>>();
  private cachedBytes = 0;

  constructor(
    readonly dir: string,
    readonly manifest: DatabaseManifest,
    /** The dense model, for the dense level's source weights. */
    private readonly dense: CausalLM,
    private readonly maxCachedBytes = 2 ** 31,
  ) {}

  /** Opens `dir/database.json`. */
  static async load(dir: string, dense: CausalLM): Promise<LevelDatabase> {
    const m = JSON.parse(await readFile(join(dir, 'database.json'), 'utf8')) as DatabaseManifest;
    if (m.format !== 'sparq-levels' || m.version !== 1) {
      throw new SparqError('E_FORMAT_VERSION', `${dir}/database.json is not a version-1 sparq levels database`, { details: { file: join(dir, 'database.json') } });
    }
    return new LevelDatabase(dir, m, dense);
  }

  /** Unit `u`'s f32 weight at `level`. */
  async weight(u: number, level: number): Promise<Tensor<'f32'>> {
    const key = `${u}@${level}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const unit = this.manifest.units[u]!;
    const dirName = this.manifest.levelDirs[level];
    let t: Tensor<'f32'>;
    // The dense level reads the source tensor: the model's current weights may be a candidate's.
    if (dirName == null) t = (await this.dense.source.read(`${unit.name}.weight`)).toF32();
    else {
      let c = this.open.get(level);
      if (!c) this.open.set(level, (c = openSparqContainer(join(this.dir, dirName))));
      const container = await c;
      t = await container.readF32(container.has(`${unit.name}.weight`) ? `${unit.name}.weight` : unit.name);
    }
    // Copy: the dense model's own tensor must not be shared with candidates.
    t = new Tensor('f32', [unit.rows, unit.cols], Float32Array.from(t.data));
    if (this.cachedBytes + t.data.byteLength <= this.maxCachedBytes) {
      this.cache.set(key, t);
      this.cachedBytes += t.data.byteLength;
    }
    return t;
  }

  /** Closes every open container. */
  async close(): Promise<void> {
    for (const c of this.open.values()) await (await c).close();
    this.open.clear();
  }
}

/** Removes a database folder. */
export async function removeDatabase(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
