/**
 * Finding a model by name: a local path, a name in the local models folder, or
 * a Hugging Face Hub repository id downloaded into the standard HF cache layout
 * (`models--owner--name/{blobs,snapshots,refs}`) with `@huggingface/hub`.
 * Offline mode (`SPARQ_OFFLINE=1`, `HF_HUB_OFFLINE=1` or the `offline` option)
 * uses the cache only and never touches the network.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { downloadFileToCacheDir, listFiles } from '@huggingface/hub';
import { SparqError } from '@sparq/tensor';

/** A model sparq knows by a short name, with where to find it locally and on the Hub. */
export interface KnownModel {
  /** Short name, e.g. `stories260K`. */
  name: string;
  /** What it is, for `--help` and docs. */
  description: string;
  /** Hub repository holding it. */
  repo: string;
  /** Files to fetch from the repository; the first is the model path to load. */
  files: string[];
  /** Paths relative to the local models folder to try, first match wins. */
  local: string[];
}

/** Models known by short name. The first is the default of `sparq quickstart`. */
export const KNOWN_MODELS: readonly KnownModel[] = [
  {
    name: 'stories260K',
    description: "Karpathy's TinyStories 260K LLaMA (llama2.c checkpoint + 512-piece tokenizer)",
    repo: 'karpathy/tinyllamas',
    files: ['stories260K/stories260K.bin', 'stories260K/tok512.bin'],
    local: ['stories260K/stories260K.bin'],
  },
];

/** The model `sparq quickstart` uses when none is named. */
export const DEFAULT_MODEL = 'stories260K';

/** Options of {@link resolveModelPath}. */
export interface ResolveModelOptions {
  /** Local models folder; default `$SPARQ_MODELS`, else `../shared/models` of the repository when it exists. */
  modelsDir?: string;
  /** HF cache folder; default `$HF_HUB_CACHE`, `$HF_HOME/hub`, else `~/.cache/huggingface/hub`. */
  cacheDir?: string;
  /** Never use the network; default from `SPARQ_OFFLINE` / `HF_HUB_OFFLINE`. */
  offline?: boolean;
  /** Git revision on the Hub; default `main`. */
  revision?: string;
  /** Hub endpoint; default `$HF_ENDPOINT` or https://huggingface.co. */
  hubUrl?: string;
  /** Access token for gated/private repositories; default `$HF_TOKEN`. */
  accessToken?: string;
  /** Custom fetch (proxies, tests). */
  fetch?: typeof fetch;
  /** Called before each file download. */
  onDownload?: (file: string, index: number, total: number) => void;
}

/** Where a model was found. */
export interface ResolvedModel {
  /** Path to pass to the loader: a model folder or a llama2.c `.bin`. */
  path: string;
  /** How it was found. */
  via: 'path' | 'models-dir' | 'hub-cache' | 'hub';
  /** Hub repository, when it came from the Hub. */
  repo?: string;
}

function envFlag(name: string): boolean {
  const v = process.env[name];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** Default local models folder (`$SPARQ_MODELS`, else `<repo>/../shared/models` when present). */
export function defaultModelsDir(): string | undefined {
  if (process.env.SPARQ_MODELS) return resolve(process.env.SPARQ_MODELS);
  // Walk up from this file to the workspace root; its sibling shared/ holds the fixtures.
  let dir = dirname(new URL(import.meta.url).pathname);
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) {
      const shared = resolve(dir, '..', 'shared', 'models');
      return existsSync(shared) ? shared : undefined;
    }
    dir = dirname(dir);
  }
  return undefined;
}

/** Default HF cache folder, as the `huggingface_hub` Python client computes it. */
export function defaultHubCacheDir(): string {
  if (process.env.HF_HUB_CACHE) return resolve(process.env.HF_HUB_CACHE);
  if (process.env.HF_HOME) return join(resolve(process.env.HF_HOME), 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

const REPO_ID = /^[\w.-]+\/[\w.-]+$/;

/** Which files of a Hub repository a loader needs (configs, tokenizers, weights). */
export function isModelFile(path: string): boolean {
  const base = path.split('/').pop() ?? path;
  return (
    /\.safetensors$/.test(base) ||
    [
      'config.json',
      'generation_config.json',
      'model.safetensors.index.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'special_tokens_map.json',
      'vocab.json',
      'merges.txt',
      'tokenizer.bin',
      'sparq.json',
    ].includes(base)
  );
}

function repoFolder(cacheDir: string, repo: string): string {
  return join(cacheDir, `models--${repo.replace('/', '--')}`);
}

/** The cached snapshot folder of `repo` at `revision`, if one was downloaded before. */
export async function cachedSnapshot(cacheDir: string, repo: string, revision = 'main'): Promise<string | undefined> {
  const folder = repoFolder(cacheDir, repo);
  let commit = revision;
  const ref = join(folder, 'refs', revision);
  if (existsSync(ref)) commit = (await readFile(ref, 'utf8')).trim();
  const snap = join(folder, 'snapshots', commit);
  return existsSync(snap) ? snap : undefined;
}

/**
 * Resolves a model name to a local path: an existing path; a known name or a
 * folder in the local models folder; or a Hub repository id (`owner/name`,
 * optionally `owner/name@revision`), downloaded into the HF cache unless
 * already cached. Offline mode fails with `E_NETWORK` when it is not cached.
 */
export async function resolveModelPath(spec: string, opts: ResolveModelOptions = {}): Promise<ResolvedModel> {
  if (existsSync(spec)) return { path: resolve(spec), via: 'path' };
  const known = KNOWN_MODELS.find((m) => m.name.toLowerCase() === spec.toLowerCase());
  const modelsDir = opts.modelsDir ?? defaultModelsDir();
  if (modelsDir) {
    for (const rel of known ? known.local : [spec]) {
      const p = join(modelsDir, rel);
      if (existsSync(p)) return { path: p, via: 'models-dir' };
    }
  }
  let repo: string;
  let revision = opts.revision ?? 'main';
  let files: string[] | undefined;
  if (known) {
    repo = known.repo;
    files = known.files;
  } else {
    const [id, rev] = spec.split('@');
    if (!id || !REPO_ID.test(id)) {
      throw new SparqError('E_NOT_FOUND', `model "${spec}" is not a path, a known model, or a Hub repository id`, {
        details: { found: spec, expected: ['a local folder or .bin file', ...KNOWN_MODELS.map((m) => m.name), 'owner/name'] },
        hint: modelsDir ? `looked in ${modelsDir} too; set SPARQ_MODELS to your models folder` : 'set SPARQ_MODELS to your models folder',
      });
    }
    repo = id;
    if (rev) revision = rev;
  }
  const cacheDir = opts.cacheDir ?? defaultHubCacheDir();
  const offline = opts.offline ?? (envFlag('SPARQ_OFFLINE') || envFlag('HF_HUB_OFFLINE'));
  // A known model names its entry file; a repository id resolves to the snapshot folder.
  const pick = (snap: string) => (known ? join(snap, known.files[0]!) : snap);
  const cached = await cachedSnapshot(cacheDir, repo, revision);
  if (cached && (!files || files.every((f) => existsSync(join(cached, f))))) {
    return { path: pick(cached), via: 'hub-cache', repo };
  }
  if (offline) {
    throw new SparqError('E_NETWORK', `model ${repo}@${revision} is not in the cache ${cacheDir} and offline mode is on`, {
      hint: 'unset SPARQ_OFFLINE / HF_HUB_OFFLINE to download it, or pass a local path',
    });
  }
  const common = {
    repo,
    revision,
    cacheDir,
    ...(opts.hubUrl ?? process.env.HF_ENDPOINT ? { hubUrl: opts.hubUrl ?? process.env.HF_ENDPOINT } : {}),
    ...(opts.accessToken ?? process.env.HF_TOKEN ? { accessToken: opts.accessToken ?? process.env.HF_TOKEN } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  };
  try {
    if (!files) {
      files = [];
      for await (const entry of listFiles({ ...common, recursive: true })) {
        if (entry.type === 'file' && isModelFile(entry.path)) files.push(entry.path);
      }
      if (!files.some((f) => f.endsWith('config.json'))) {
        throw new SparqError('E_NOT_FOUND', `Hub repository ${repo}@${revision} has no config.json; it is not a model sparq can load`);
      }
    }
    let snapshot: string | undefined;
    for (const [i, f] of files.entries()) {
      opts.onDownload?.(f, i, files.length);
      const pointer = await withDebugOnStderr(() => downloadFileToCacheDir({ ...common, path: f }));
      snapshot ??= pointer.slice(0, pointer.length - f.length - 1);
    }
    if (!snapshot) throw new SparqError('E_NOT_FOUND', `Hub repository ${repo}@${revision} has no model files`);
    // Record the ref so offline mode finds this snapshot again (HF cache convention).
    const commit = snapshot.split('/').pop()!;
    if (commit !== revision) {
      await mkdir(join(repoFolder(cacheDir, repo), 'refs'), { recursive: true });
      await writeFile(join(repoFolder(cacheDir, repo), 'refs', revision), commit);
    }
    return { path: pick(snapshot), via: 'hub', repo };
  } catch (e) {
    if (e instanceof SparqError) throw e;
    throw new SparqError('E_NETWORK', `download of ${repo}@${revision} failed: ${(e as Error).message}`, {
      cause: e,
      hint: 'check the repository id and your network, or set HF_TOKEN for gated models',
    });
  }
}

/** Lists the snapshot folders cached for `repo` (newest first). */
export function listCachedSnapshots(cacheDir: string, repo: string): string[] {
  const snaps = join(repoFolder(cacheDir, repo), 'snapshots');
  if (!existsSync(snaps)) return [];
  return readdirSync(snaps)
    .map((d) => join(snaps, d))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
}

/**
 * @huggingface/hub logs progress with `console.debug`, which Node writes to
 * stdout; sparq keeps stdout for results (`--json`), so route it to stderr.
 */
async function withDebugOnStderr<T>(fn: () => Promise<T>): Promise<T> {
  const saved = console.debug;
  console.debug = (...args: unknown[]) => console.error(...args);
  try {
    return await fn();
  } finally {
    console.debug = saved;
  }
}
