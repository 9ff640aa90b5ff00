// Turns benchmark results into files people can read: summary.json, one SVG histogram per latency
// series (ours next to the baseline measured in the same run), one SVG line plot per series over time
// (`kind: 'line'`, e.g. a process's resident memory) and a short README.md of the figures.
// Used by scripts/bench.mjs; also runnable on a saved summary: node scripts/bench-report.mjs summary.json out/
import { cpus, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function machine() {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return { cpu, cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}/${process.arch}` };
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];

/** The size and margins every SVG plot here shares. */
const FRAME = { width: 760, height: 360, left: 60, top: 40, plotW: 760 - 60 - 20, plotH: 360 - 40 - 60 };

/** The opening of a plot: the SVG element, a white background, the title and the two axes. */
function svgFrame(title) {
  const { width, height, left, top, plotW, plotH } = FRAME;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="black"/>`,
  ];
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** An SVG histogram of several series on a log-spaced millisecond axis, with p50/p99 marked. */
export function histogramSvg({ title, unit, series }) {
  const names = Object.keys(series);
  const all = names.flatMap((name) => series[name]).filter((v) => v > 0);
  const lo = Math.max(0.01, Math.min(...all));
  const hi = Math.max(...all) * 1.05;
  const bins = 40;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo * (hi / lo) ** (i / bins));
  const counts = names.map((name) => {
    const c = new Array(bins).fill(0);
    for (const v of series[name]) {
      let b = edges.findIndex((edge, i) => i > 0 && v <= edge) - 1;
      if (b < 0) b = v <= lo ? 0 : bins - 1;
      c[b] += 1;
    }
    return c.map((n) => n / series[name].length);
  });
  const { height, left, top, plotW, plotH } = FRAME;
  const maxShare = Math.max(...counts.flat(), 0.01);
  const x = (v) => left + (Math.log(v / lo) / Math.log(hi / lo)) * plotW;
  const y = (share) => top + plotH - (share / maxShare) * plotH;
  const parts = svgFrame(title);
  for (const tick of [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]) {
    if (tick < lo || tick > hi) continue;
    parts.push(`<line x1="${x(tick)}" y1="${top + plotH}" x2="${x(tick)}" y2="${top + plotH + 5}" stroke="black"/>`);
    parts.push(`<text x="${x(tick)}" y="${top + plotH + 18}" text-anchor="middle">${tick}</text>`);
  }
  parts.push(`<text x="${left + plotW / 2}" y="${height - 25}" text-anchor="middle">${escapeXml(unit)} (log scale)</text>`);
  parts.push(`<text x="15" y="${top + plotH / 2}" transform="rotate(-90 15 ${top + plotH / 2})" text-anchor="middle">share of samples</text>`);
  names.forEach((name, s) => {
    const color = COLORS[s % COLORS.length];
    const barW = plotW / bins / names.length;
    counts[s].forEach((share, b) => {
      if (share === 0) return;
      const x0 = x(edges[b]) + s * barW;
      parts.push(
        `<rect x="${x0.toFixed(1)}" y="${y(share).toFixed(1)}" width="${Math.max(barW - 0.5, 0.5).toFixed(1)}" height="${(top + plotH - y(share)).toFixed(1)}" fill="${color}" fill-opacity="0.75"/>`,
      );
    });
    const sorted = [...series[name]].sort((a, b) => a - b);
    for (const [q, dash] of [
      [0.5, ''],
      [0.99, '4 3'],
    ]) {
      const v = quantile(sorted, q);
      parts.push(`<line x1="${x(v).toFixed(1)}" y1="${top}" x2="${x(v).toFixed(1)}" y2="${top + plotH}" stroke="${color}" stroke-width="1.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    }
    const p50 = quantile(sorted, 0.5);
    const p99 = quantile(sorted, 0.99);
    parts.push(`<rect x="${left + 10}" y="${top + 6 + s * 18}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${left + 28}" y="${top + 16 + s * 18}">${escapeXml(name)}: p50 ${p50} ${unit}, p99 ${p99} ${unit} (n=${sorted.length})</text>`);
  });
  parts.push(`<text x="${left}" y="${height - 8}" font-size="10" fill="#555">solid line: p50, dashed: p99</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/**
 * An SVG line plot of several series over time: `series` maps a name to `[x, y]` points (x in seconds),
 * `marks` are labelled vertical lines (`{ x, label }`), `limits` labelled horizontal ones (`{ y, label }`).
 */
export function lineSvg({ title, unit, xUnit = 's', series, marks = [], limits = [] }) {
  const names = Object.keys(series);
  const points = names.flatMap((name) => series[name]);
  const xMax = Math.max(...points.map(([x]) => x), 1);
  const yMax = Math.max(...points.map(([, y]) => y), ...limits.map((l) => l.y), 1) * 1.08;
  const { height, left, top, plotW, plotH } = FRAME;
  const x = (v) => left + (v / xMax) * plotW;
  const y = (v) => top + plotH - (v / yMax) * plotH;
  const parts = svgFrame(title);
  for (const tick of niceTicks(xMax)) {
    parts.push(`<line x1="${x(tick)}" y1="${top + plotH}" x2="${x(tick)}" y2="${top + plotH + 5}" stroke="black"/>`);
    parts.push(`<text x="${x(tick)}" y="${top + plotH + 18}" text-anchor="middle">${tick}</text>`);
  }
  for (const tick of niceTicks(yMax)) {
    parts.push(`<line x1="${left - 5}" y1="${y(tick)}" x2="${left}" y2="${y(tick)}" stroke="black"/>`);
    parts.push(`<line x1="${left}" y1="${y(tick)}" x2="${left + plotW}" y2="${y(tick)}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 8}" y="${y(tick) + 4}" text-anchor="end">${tick}</text>`);
  }
  parts.push(`<text x="${left + plotW / 2}" y="${height - 25}" text-anchor="middle">${escapeXml(xUnit)}</text>`);
  parts.push(`<text x="15" y="${top + plotH / 2}" transform="rotate(-90 15 ${top + plotH / 2})" text-anchor="middle">${escapeXml(unit)}</text>`);
  for (const mark of marks) {
    parts.push(`<line x1="${x(mark.x).toFixed(1)}" y1="${top}" x2="${x(mark.x).toFixed(1)}" y2="${top + plotH}" stroke="#888" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${(x(mark.x) + 4).toFixed(1)}" y="${top + plotH - 6}" fill="#555" font-size="10">${escapeXml(mark.label)}</text>`);
  }
  for (const limit of limits) {
    parts.push(`<line x1="${left}" y1="${y(limit.y).toFixed(1)}" x2="${left + plotW}" y2="${y(limit.y).toFixed(1)}" stroke="#d62728" stroke-dasharray="6 3"/>`);
    parts.push(`<text x="${left + plotW - 4}" y="${(y(limit.y) - 4).toFixed(1)}" text-anchor="end" fill="#d62728" font-size="10">${escapeXml(limit.label)}</text>`);
  }
  names.forEach((name, s) => {
    const color = COLORS[s % COLORS.length];
    const path = series[name].map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    const last = series[name].at(-1)?.[1];
    const peak = Math.max(...series[name].map(([, py]) => py));
    parts.push(`<rect x="${left + 10}" y="${top + 6 + s * 18}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${left + 28}" y="${top + 16 + s * 18}">${escapeXml(name)}: last ${last} ${escapeXml(unit)}, highest ${peak}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/**
 * The same line plot as text, for the terminal: each series drawn with its own character (the first
 * `*`, then the first letter of each other name), `limits` as rows of `-`, `marks` as columns of `|`.
 */
export function lineText({ title, unit, xUnit = 's', series, marks = [], limits = [] }, { width = 72, height = 14 } = {}) {
  const names = Object.keys(series);
  const points = names.flatMap((name) => series[name]);
  if (points.length === 0) return `${title}: no samples`;
  const xMax = Math.max(...points.map(([x]) => x), 1);
  const yMax = Math.max(...points.map(([, y]) => y), ...limits.map((l) => l.y), 1) * 1.05;
  const grid = Array.from({ length: height }, () => Array.from({ length: width }, () => ' '));
  const column = (x) => Math.min(width - 1, Math.max(0, Math.round((x / xMax) * (width - 1))));
  const row = (y) => Math.min(height - 1, Math.max(0, height - 1 - Math.round((y / yMax) * (height - 1))));
  for (const { y } of limits) for (let c = 0; c < width; c++) grid[row(y)][c] = '-';
  for (const { x } of marks) for (let r = 0; r < height; r++) grid[r][column(x)] = '|';
  // Drawn last series first, so the first (the total) stays visible where lines meet.
  names.forEach((name, index) => {
    if (index === 0) return;
    for (const [x, y] of series[name]) grid[row(y)][column(x)] = name[0];
  });
  for (const [x, y] of series[names[0]]) grid[row(y)][column(x)] = '*';
  const label = (r) => {
    const value = ((height - 1 - r) / (height - 1)) * yMax;
    return r % 3 === 0 || r === height - 1 ? String(Math.round(value)).padStart(5) : '     ';
  };
  const lines = [`${title} (${unit})`];
  for (const [r, cells] of grid.entries()) lines.push(`${label(r)} |${cells.join('')}`);
  lines.push(`      +${'-'.repeat(width)}`);
  lines.push(`       0${' '.repeat(Math.max(1, width - String(Math.round(xMax)).length - 1))}${Math.round(xMax)} ${xUnit}`);
  lines.push(
    `       * ${names[0]}${names
      .slice(1)
      .map((name) => `   ${name[0]} ${name}`)
      .join('')}`,
  );
  for (const { y, label: text } of limits) lines.push(`       - ${text} (${y} ${unit})`);
  for (const { x, label: text } of marks) lines.push(`       | ${text} (at ${+x.toFixed(1)})`);
  return lines.join('\n');
}

/** About five round tick values from 0 to `max`. */
function niceTicks(max) {
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= raw) ?? raw;
  const ticks = [];
  for (let tick = 0; tick <= max; tick += step) ticks.push(+tick.toFixed(6));
  return ticks;
}

function escapeXml(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Writes summary.json (samples kept), one SVG per histogram and README.md into `dir`. Returns the file names. */
export function writeReport(summary, dir) {
  mkdirSync(dir, { recursive: true });
  const files = ['summary.json'];
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const lines = [
    `# Benchmark results`,
    '',
    `${summary.date} on ${summary.machine.cpu}, ${summary.machine.cores} cores, ${summary.machine.memoryGb} GB, Node ${summary.machine.node} (${summary.machine.platform}).`,
    '',
  ];
  for (const result of summary.results) {
    for (const histogram of result.histograms ?? []) {
      const file = `${histogram.name}.svg`;
      writeFileSync(join(dir, file), histogram.kind === 'line' ? lineSvg(histogram) : histogramSvg(histogram));
      files.push(file);
      lines.push(`![${histogram.title}](${file})`, '');
    }
  }
  lines.push('Every figure is in summary.json (one entry per benchmark run, with its baseline from the same run).', '');
  writeFileSync(join(dir, 'README.md'), lines.join('\n'));
  files.push('README.md');
  return files;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [input, out] = process.argv.slice(2);
  if (!input || !out) {
    console.error('usage: node scripts/bench-report.mjs summary.json out-dir');
    process.exit(2);
  }
  console.log(writeReport(JSON.parse(readFileSync(input, 'utf8')), out).join('\n'));
}
