/**
 * Where the demo's model comes from, as a `ByteSourceSet` the container
 * reader understands: files picked with a file input (the container's files,
 * or its folder), or a base URL. A container is a folder, so picked files are
 * matched by their base names.
 */
import { blobSource, byteSourceSet, fetchSourceSet, type ByteSourceSet } from '@sparq/format';
import { SparqError } from '@sparq/tensor';

/** Base name of a picked file (a folder pick gives `model.sparq/sparq.json` as `webkitRelativePath`). */
function baseName(f: File): string {
  const path = f.webkitRelativePath || f.name;
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The picked files as a source set. A folder pick may include nested
 * folders; only files directly in the folder that holds `sparq.json` count.
 * `E_ARG` when nothing was picked or no `sparq.json` is among the files.
 */
export function sourcesFromFiles(list: FileList | readonly File[]): ByteSourceSet {
  const files = Array.from(list as ArrayLike<File>);
  if (files.length === 0) throw new SparqError('E_ARG', 'no files selected', { hint: 'pick the files of a .sparq container folder (sparq.json, the .safetensors shards and the tokenizer)' });
  const manifest = files.find((f) => baseName(f) === 'sparq.json');
  if (manifest === undefined) {
    throw new SparqError('E_ARG', `the ${files.length} selected file(s) (${files.slice(0, 5).map(baseName).join(', ')}${files.length > 5 ? ', …' : ''}) include no sparq.json: this is not a sparq container`, {
      hint: 'pick every file of the container folder (or the folder itself), not only the .safetensors',
    });
  }
  const dirOf = (f: File): string => {
    const p = f.webkitRelativePath || f.name;
    return p.slice(0, p.lastIndexOf('/') + 1);
  };
  const root = dirOf(manifest);
  const chosen = files.filter((f) => dirOf(f) === root);
  const label = root ? `folder ${root.replace(/\/$/, '')}` : 'selected files';
  return byteSourceSet(label, chosen.map((f) => blobSource(f, baseName(f))));
}

/** A container served over HTTP(S) at `url` (a folder URL; relative URLs resolve against the page). */
export function sourcesFromUrl(url: string): ByteSourceSet {
  const u = url.trim();
  if (u === '') throw new SparqError('E_ARG', 'no model URL given', { hint: 'enter the URL of a .sparq container folder, e.g. https://example.com/stories260K.sparq/' });
  return fetchSourceSet(u);
}
