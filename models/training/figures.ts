// The two SVG figures of the training report, drawn without dependencies and deterministically (fixed number
// formatting, no ids or dates): the reliability diagram of P(negative) and the precision–recall curve of the
// negative class with the chosen threshold marked.
import type { ReliabilityBin } from './metrics.js';
import type { ThresholdCandidate } from './threshold.js';

const W = 480;
const H = 400;
const M = { left: 56, right: 16, top: 36, bottom: 48 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

const fx = (v: number) => (M.left + v * PW).toFixed(1);
const fy = (v: number) => (M.top + (1 - v) * PH).toFixed(1);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function frame(title: string, xLabel: string, yLabel: string, body: string[]): string {
  const ticks: string[] = [];
  for (let i = 0; i <= 10; i += 2) {
    const v = i / 10;
    ticks.push(`<line x1="${fx(v)}" y1="${fy(0)}" x2="${fx(v)}" y2="${fy(1)}" stroke="#e5e5e5"/>`);
    ticks.push(`<line x1="${fx(0)}" y1="${fy(v)}" x2="${fx(1)}" y2="${fy(v)}" stroke="#e5e5e5"/>`);
    ticks.push(`<text x="${fx(v)}" y="${(M.top + PH + 16).toFixed(1)}" text-anchor="middle">${v.toFixed(1)}</text>`);
    ticks.push(`<text x="${(M.left - 6).toFixed(1)}" y="${(Number(fy(v)) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    ...ticks,
    `<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#333333"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<text x="${(M.left + PW / 2).toFixed(1)}" y="${H - 10}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(14 ${(M.top + PH / 2).toFixed(1)}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** Observed frequency of "negative" against mean predicted P(negative) per bin; marker area ∝ bin size. */
export function reliabilitySvg(bins: readonly ReliabilityBin[], ece: number, n: number): string {
  const body: string[] = [`<line x1="${fx(0)}" y1="${fy(0)}" x2="${fx(1)}" y2="${fy(1)}" stroke="#999999" stroke-dasharray="4 3"/>`];
  const used = bins.filter((b) => b.count > 0);
  body.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${used.map((b) => `${fx(b.meanPredicted)},${fy(b.observed)}`).join(' ')}"/>`);
  for (const b of used) {
    const r = Math.min(12, Math.max(2.5, Math.sqrt(b.count / n) * 22));
    body.push(`<circle cx="${fx(b.meanPredicted)}" cy="${fy(b.observed)}" r="${r.toFixed(1)}" fill="#1f77b4" fill-opacity="0.55"><title>${b.lo.toFixed(1)}-${b.hi.toFixed(1)}: n=${b.count}, predicted ${b.meanPredicted.toFixed(3)}, observed ${b.observed.toFixed(3)}</title></circle>`);
  }
  body.push(`<text x="${(M.left + 8).toFixed(1)}" y="${(M.top + 16).toFixed(1)}">ECE ${ece.toFixed(4)} (${bins.length} bins, n=${n})</text>`);
  return frame('Reliability of P(negative), val', 'mean predicted P(negative)', 'observed fraction negative', body);
}

/** Precision against recall of the negative class over every cut; the chosen threshold is marked. */
export function prCurveSvg(candidates: readonly ThresholdCandidate[], chosen: ThresholdCandidate, minRecall: number): string {
  const pts = candidates.map((c) => `${fx(c.recall)},${fy(c.precision)}`).join(' ');
  const body = [
    `<line x1="${fx(minRecall)}" y1="${fy(0)}" x2="${fx(minRecall)}" y2="${fy(1)}" stroke="#d62728" stroke-dasharray="4 3"/>`,
    `<text x="${(Number(fx(minRecall)) - 4).toFixed(1)}" y="${(Number(fy(0)) - 6).toFixed(1)}" text-anchor="end" fill="#d62728">recall ≥ ${minRecall}</text>`,
    `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${pts}"/>`,
    `<circle cx="${fx(chosen.recall)}" cy="${fy(chosen.precision)}" r="5" fill="#d62728"/>`,
    `<text x="${(Number(fx(chosen.recall)) - 8).toFixed(1)}" y="${(Number(fy(chosen.precision)) + 18).toFixed(1)}" text-anchor="end">threshold ${chosen.threshold} (P ${chosen.precision.toFixed(3)}, R ${chosen.recall.toFixed(3)}, F1 ${chosen.f1.toFixed(3)})</text>`,
  ];
  return frame('Precision–recall, negative class, val', 'recall (negative)', 'precision (negative)', body);
}
