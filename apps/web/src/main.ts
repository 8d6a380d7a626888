/**
 * The demo page: wires the DOM of `index.html` to `demo.ts`. A model is
 * (re)loaded when its source or the backend changes; Generate runs greedy
 * generation and shows the text as it streams, tokens/s, weight bytes and
 * the backend's adapter. `document.body.dataset.state` tells automation what
 * the page is doing (`idle`, `loading`, `generating`, `done`, `error`).
 */
import type { ByteSourceSet } from '@sparq/format';
import { isSparqError } from '@sparq/tensor';
import { createDemoBackend, type BackendKind, type DemoBackend } from './backends';
import { loadDemoModel, runDemoGeneration, type DemoModel } from './demo';
import { sourcesFromFiles, sourcesFromUrl } from './sources';
import { formatBytes } from './weight-bytes';

const $ = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`index.html lacks #${id}`);
  return e as T;
};
const ui = {
  url: $<HTMLInputElement>('url'),
  files: $<HTMLInputElement>('files'),
  folder: $<HTMLInputElement>('folder'),
  modelInfo: $('model-info'),
  prompt: $<HTMLTextAreaElement>('prompt'),
  maxTokens: $<HTMLInputElement>('max-tokens'),
  backend: $<HTMLSelectElement>('backend'),
  generate: $<HTMLButtonElement>('generate'),
  status: $('status'),
  error: $('error'),
  outPrompt: $('output-prompt'),
  outText: $('output-text'),
  prefill: $('prefill-tps'),
  decode: $('decode-tps'),
  weights: $('weight-bytes'),
  adapter: $('adapter'),
  ids: $('ids'),
};

type State = 'idle' | 'loading' | 'generating' | 'done' | 'error';

/** The chosen source (a new key each time the user picks or types one). */
let source: { key: number; files: ByteSourceSet; url?: string } | undefined;
let nextKey = 1;
/** The loaded model, its backend, and which source it came from. */
let loaded: { key: number; model: DemoModel; backend: DemoBackend } | undefined;
/** Tasks run one at a time, in order: a URL field's `change` (fired by the blur of clicking Generate) loads first, then the click generates. */
let queue: Promise<void> = Promise.resolve();

function setState(s: State, status: string): void {
  document.body.dataset.state = s;
  ui.status.textContent = status;
  const lock = s === 'loading' || s === 'generating';
  for (const c of [ui.url, ui.files, ui.folder, ui.backend, ui.prompt, ui.maxTokens]) c.disabled = lock;
  // Generate stays clickable while a model loads: the click queues behind the load.
  ui.generate.disabled = s === 'generating';
}

function showError(e: unknown): void {
  let text: string;
  if (isSparqError(e)) text = `${e.code}: ${e.message}${e.hint ? `\nHint: ${e.hint}` : ''}`;
  else text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  ui.error.textContent = text;
  ui.error.hidden = false;
  setState('error', 'Failed — see the message below.');
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

async function unload(): Promise<void> {
  const l = loaded;
  loaded = undefined;
  if (!l) return;
  await l.model.model.dispose().catch(() => undefined);
  await l.backend.backend.dispose().catch(() => undefined);
}

/** The loaded model for the current source and backend choice, loading it when either changed. */
async function ensureModel(): Promise<DemoModel & { backend: DemoBackend }> {
  if (!source) {
    throw Object.assign(new Error('No model chosen: enter the URL of a .sparq container or pick its files first.'), { name: 'No model' });
  }
  const kind = ui.backend.value as BackendKind;
  if (loaded && loaded.key === source.key && loaded.backend.kind === kind) return { ...loaded.model, backend: loaded.backend };
  await unload();
  setState('loading', 'Starting the backend…');
  const backend = await createDemoBackend(kind);
  ui.adapter.textContent = backend.description;
  setState('loading', `Loading ${source.files.location}…`);
  try {
    const t0 = performance.now();
    const model = await loadDemoModel(source.files, backend.backend, (p) => setState('loading', `Loading ${source!.files.location}: block ${p.done}/${p.total}…`));
    loaded = { key: source.key, model, backend };
    const w = model.weights;
    ui.modelInfo.textContent = `${model.location}: ${model.summary}; ${w.params.toLocaleString('en-US')} parameters, loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s.`;
    ui.weights.textContent =
      `${formatBytes(w.packed)} packed vs ${formatBytes(w.denseF32)} dense f32 (${(w.denseF32 / w.packed).toFixed(2)}× smaller; ` +
      `${w.bitsPerWeight.toFixed(2)} bits/weight overall, ${w.compressedBitsPerWeight.toFixed(2)} in the compressed layers)`;
    return { ...model, backend };
  } catch (e) {
    await backend.backend.dispose().catch(() => undefined);
    throw e;
  }
}

function run(task: () => Promise<void>): Promise<void> {
  queue = queue.then(async () => {
    clearError();
    try {
      await task();
    } catch (e) {
      showError(e);
    } finally {
      if (document.body.dataset.state === 'loading' || document.body.dataset.state === 'generating') setState('idle', 'Ready.');
    }
  });
  return queue;
}

async function loadOnly(): Promise<void> {
  await ensureModel();
  setState('idle', 'Model loaded. Press Generate.');
}

function choose(make: () => ByteSourceSet, url?: string): void {
  void run(async () => {
    source = { key: nextKey++, files: make(), ...(url === undefined ? {} : { url }) };
    await loadOnly();
  });
}

/** The URL field names a model other than the current source (typed but not yet loaded). */
function urlChanged(): boolean {
  const u = ui.url.value.trim();
  return u !== '' && (source === undefined || (source.url !== undefined && source.url !== u));
}

ui.files.addEventListener('change', () => ui.files.files && ui.files.files.length > 0 && choose(() => sourcesFromFiles(ui.files.files!)));
ui.folder.addEventListener('change', () => ui.folder.files && ui.folder.files.length > 0 && choose(() => sourcesFromFiles(ui.folder.files!)));
ui.url.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && ui.url.value.trim() !== '') choose(() => sourcesFromUrl(ui.url.value), ui.url.value.trim());
});

ui.generate.addEventListener('click', () =>
  void run(async () => {
    if (urlChanged()) source = { key: nextKey++, files: sourcesFromUrl(ui.url.value), url: ui.url.value.trim() };
    const m = await ensureModel();
    const maxTokens = Number(ui.maxTokens.value);
    ui.outPrompt.textContent = ui.prompt.value;
    ui.outText.textContent = '';
    ui.ids.textContent = '';
    for (const e of [ui.prefill, ui.decode]) e.textContent = '…';
    setState('generating', 'Generating…');
    let n = 0;
    const r = await runDemoGeneration(m, ui.prompt.value, {
      maxTokens,
      onToken: (t) => {
        ui.outText.textContent += t;
        setState('generating', `Generating… ${++n} token(s)`);
      },
    });
    ui.prefill.textContent = `${r.prefillTokensPerSecond.toFixed(1)} tokens/s (${r.promptIds.length} prompt tokens in ${r.prefillMs.toFixed(0)} ms)`;
    ui.decode.textContent = r.newIds.length > 1 ? `${r.decodeTokensPerSecond.toFixed(1)} tokens/s (${r.newIds.length - 1} tokens in ${r.decodeMs.toFixed(0)} ms)` : 'n/a (one token)';
    ui.ids.textContent = JSON.stringify({ prompt: r.promptIds, generated: r.newIds });
    setState('done', `Done: ${r.newIds.length} token(s).`);
  }),
);

setState('idle', 'Ready. Choose a model.');
