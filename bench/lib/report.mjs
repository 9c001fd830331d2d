// Turns the rounds into medians and ratios, checks the targets, and writes the table
// (terminal and Markdown), the JSON record and an SVG chart of the ratios.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';

/** Written as `npm run lint` (prettier --check) wants them, so a run leaves a clean checkout. */
export async function writeFormatted(path, text) {
  const config = await prettier.resolveConfig(path);
  writeFileSync(path, await prettier.format(text, { ...config, filepath: path }));
}

const median = (values) => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Medians over rounds; ratios are taken within each round (target / its baseline), then the median. */
export function summarise(targets, rounds) {
  return targets.map((target) => {
    const mine = rounds.map((round) => round[target.key]).filter(Boolean);
    const base = target.baseline;
    const ratios = base ? rounds.map((r) => r[target.key]?.requests / r[base]?.requests) : [];
    const p99Ratios = base ? rounds.map((r) => r[target.key]?.p99 / r[base]?.p99) : [];
    const summary = {
      key: target.key,
      label: target.label,
      baseline: base ?? null,
      requests: median(mine.map((m) => m.requests)),
      p50: median(mine.map((m) => m.p50)),
      p99: median(mine.map((m) => m.p99)),
      ratio: base ? median(ratios) : null,
      p99Ratio: base ? median(p99Ratios) : null,
      failures: mine.reduce((sum, m) => sum + m.non2xx + m.errors, 0),
    };
    return { ...summary, goal: target.goal ? checkGoal(target.goal, summary) : null };
  });
}

function checkGoal(goal, summary) {
  const misses = [];
  if (goal.ratio !== undefined && !(summary.ratio >= goal.ratio)) misses.push('throughput');
  if (goal.p99Ratio !== undefined && !(summary.p99Ratio <= goal.p99Ratio)) misses.push('p99');
  if (summary.failures > 0) misses.push('failed requests');
  return { text: goal.text, met: misses.length === 0, misses };
}

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const thousands = (value) =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';

function rows(summary, labels) {
  return summary.map((s) => [
    s.label,
    thousands(s.requests),
    fixed(s.p50, 1),
    fixed(s.p99, 1),
    s.baseline ? labels.get(s.baseline) : '–',
    s.ratio === null ? '–' : `${fixed(s.ratio, 2)}×`,
    s.p99Ratio === null ? '–' : `${fixed(s.p99Ratio, 2)}×`,
    s.goal ? `${s.goal.met ? 'met' : 'missed'} (${s.goal.text})` : '',
  ]);
}

const HEADER = ['target', 'req/s', 'p50 ms', 'p99 ms', 'baseline', 'ratio', 'p99 ratio', 'target'];

export function terminalTable(summary) {
  const labels = new Map(summary.map((s) => [s.key, s.label]));
  const all = [HEADER, ...rows(summary, labels)];
  const widths = HEADER.map((_, column) => Math.max(...all.map((row) => row[column].length)));
  return all
    .map((row) =>
      row
        .map((cell, column) =>
          column === 0 || column >= 4 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
        )
        .join('  '),
    )
    .join('\n');
}

export function markdownTable(summary) {
  const labels = new Map(summary.map((s) => [s.key, s.label]));
  return [
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map((_, i) => (i >= 1 && i <= 3 ? '---:' : '---')).join('|')}|`,
    ...rows(summary, labels).map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

const escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars, one per target that has a baseline; a tick marks the goal where there is one. */
export function ratioChart(summary, title) {
  const bars = summary.filter((s) => s.ratio !== null);
  const [left, barHeight, gap, width, top] = [300, 22, 10, 420, 48];
  const max = Math.max(2, ...bars.map((s) => (Number.isFinite(s.ratio) ? s.ratio : 0))) * 1.05;
  const x = (ratio) => left + (width * ratio) / max;
  const height = top + bars.length * (barHeight + gap) + 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 80}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<text x="10" y="36" fill="#555">req/s ratio to each target's baseline in the same round (median of rounds); black tick: the goal</text>`,
  ];
  for (const tick of [0, 0.5, 1, 1.5, 2].filter((t) => t <= max)) {
    parts.push(
      `<line x1="${x(tick)}" y1="${top - 4}" x2="${x(tick)}" y2="${height - 30}" stroke="#ddd"/>`,
      `<text x="${x(tick)}" y="${height - 16}" text-anchor="middle" fill="#555">${tick}×</text>`,
    );
  }
  bars.forEach((s, index) => {
    const y = top + index * (barHeight + gap);
    const ratio = Number.isFinite(s.ratio) ? s.ratio : 0;
    const colour = !s.goal ? '#8aa' : s.goal.met ? '#3a7' : '#d54';
    parts.push(
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${escape(s.label)}</text>`,
      `<rect x="${left}" y="${y}" width="${x(ratio) - left}" height="${barHeight}" fill="${colour}"/>`,
      `<text x="${x(ratio) + 4}" y="${y + 15}">${fixed(s.ratio, 2)}×</text>`,
    );
    const goal = s.goal && /≥ ?([\d.]+)×/.exec(s.goal.text);
    if (goal) {
      const gx = x(Number(goal[1]));
      parts.push(
        `<line x1="${gx}" y1="${y - 2}" x2="${gx}" y2="${y + barHeight + 2}" stroke="#000" stroke-width="2"/>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export async function writeResults(dir, record, markdown, svg) {
  const stamp = record.date.slice(0, 19).replace(/:/g, '-');
  await writeFormatted(join(dir, `${stamp}Z.json`), JSON.stringify(record, null, 2));
  await writeFormatted(join(dir, 'latest.md'), markdown);
  writeFileSync(join(dir, 'ratios.svg'), svg);
  return stamp;
}
