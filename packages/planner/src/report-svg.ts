/**
 * A plan drawn as a standalone SVG: per-unit levels as bars (one per unit, in
 * model order) above the fitness curve over generations. Plain SVG text, no
 * rendering dependency, so `sparq plan --report` works anywhere.
 */
import type { SearchSpace } from './space';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Options of {@link planSvg}. */
export interface PlanSvgOptions {
  title: string;
  /** Fitness per generation (drawn when it has 2 or more points). */
  history?: readonly number[];
  /** Fitness axis label. Default `KL divergence`. */
  fitnessLabel?: string;
}

/** Renders levels (bar height = level index) and the fitness curve. */
export function planSvg(space: SearchSpace, levels: ArrayLike<number>, o: PlanSvgOptions): string {
  const W = 900;
  const barH = 220;
  const curveH = o.history && o.history.length > 1 ? 180 : 0;
  const H = 60 + barH + 50 + curveH + (curveH ? 50 : 0);
  const left = 60;
  const plotW = W - left - 20;
  const U = space.units.length;
  const L = space.levels.length;
  const bw = plotW / U;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${left}" y="24" font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  const top = 40;
  for (let l = 0; l < L; l++) {
    // Level l fills l+1 of L bands, so the least-compressed level still shows a bar.
    const y = top + barH - (barH * (l + 1)) / L;
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${esc(space.levels[l]!)}</text>`);
  }
  for (let i = 0; i < U; i++) {
    const lv = levels[i]!;
    const h = (barH * (lv + 1)) / L;
    out.push(
      `<rect x="${(left + i * bw + 0.5).toFixed(1)}" y="${(top + barH - h).toFixed(1)}" width="${Math.max(bw - 1, 0.5).toFixed(1)}" height="${Math.max(h, 1).toFixed(1)}" fill="#3b6ea5"><title>${esc(space.units[i]!.name)}: ${esc(space.levels[lv]!)}</title></rect>`,
    );
  }
  out.push(`<text x="${left + plotW / 2}" y="${top + barH + 20}" text-anchor="middle">units in model order (${U})</text>`);
  if (curveH && o.history) {
    const h = o.history;
    const y0 = top + barH + 60;
    const lo = Math.min(...h);
    const hi = Math.max(...h);
    const span = hi - lo || 1;
    const pts = h.map((f, g) => `${(left + (plotW * g) / (h.length - 1)).toFixed(1)},${(y0 + curveH - (curveH * (f - lo)) / span).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="#c0392b" stroke-width="2" points="${pts.join(' ')}"/>`);
    out.push(`<text x="${left - 6}" y="${y0 + 4}" text-anchor="end">${hi.toPrecision(4)}</text>`);
    out.push(`<text x="${left - 6}" y="${y0 + curveH + 4}" text-anchor="end">${lo.toPrecision(4)}</text>`);
    out.push(`<text x="${left + plotW / 2}" y="${y0 + curveH + 24}" text-anchor="middle">generation (0–${h.length - 1}) · ${esc(o.fitnessLabel ?? 'KL divergence')}</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
