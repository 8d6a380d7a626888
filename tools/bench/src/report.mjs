// Output helpers: an aligned text table for humans, JSON for machines.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Prints rows (objects with the same keys) as an aligned table and returns the text.
 * Numbers are right-aligned and shown with 3 significant digits past the point.
 * @param {Record<string, unknown>[]} rows
 * @param {(line: string) => void} [print]
 * @returns {string}
 */
export function table(rows, print = console.log) {
  if (rows.length === 0) return '';
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const fmt = (/** @type {unknown} */ v) =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) >= 100 ? 1 : Math.abs(v) >= 1 ? 2 : 3)) : String(v ?? '');
  const cells = rows.map((r) => cols.map((c) => fmt(r[c])));
  const width = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const numeric = cols.map((c) => rows.every((r) => r[c] === undefined || typeof r[c] === 'number'));
  const line = (/** @type {string[]} */ vals) =>
    vals.map((v, i) => (numeric[i] ? v.padStart(width[i]) : v.padEnd(width[i]))).join('  ').trimEnd();
  const text = [line(cols), width.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
  print(text);
  return text;
}

/**
 * Writes `obj` as pretty JSON, creating folders as needed.
 * @param {string} path
 * @param {unknown} obj
 */
export function writeJson(path, obj) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(obj, null, 2) + '\n');
}
