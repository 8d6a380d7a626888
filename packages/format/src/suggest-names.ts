/**
 * "Did you mean" suggestions for missing tensor names, so an `E_NOT_FOUND`
 * lists the few closest names instead of dumping hundreds of keys.
 */

/** Edit distance between `a` and `b` (Levenshtein, two-row DP). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1);
      cur[j] = Math.min(sub, prev[j]! + 1, cur[j - 1]! + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/**
 * Up to `limit` names from `candidates` closest to `wanted`: names containing
 * it (or contained in it) first, then by edit distance. Only called on the
 * error path, so the quadratic distance is affordable.
 */
export function suggestNames(wanted: string, candidates: Iterable<string>, limit = 5): string[] {
  const scored: { name: string; score: number }[] = [];
  for (const name of candidates) {
    const contains = wanted.length > 0 && (name.includes(wanted) || wanted.includes(name));
    scored.push({ name, score: contains ? -1 : editDistance(wanted, name) });
  }
  scored.sort((x, y) => x.score - y.score || (x.name < y.name ? -1 : 1));
  return scored.slice(0, limit).map((s) => s.name);
}

/** The `E_NOT_FOUND` message tail: `; close names: "a", "b"` or `; the file holds no tensors`. */
export function describeSuggestions(suggestions: string[]): string {
  if (suggestions.length === 0) return '; it holds no tensors';
  return `; close names: ${suggestions.map((s) => JSON.stringify(s)).join(', ')}`;
}
