// What `pnpm bench` (bench/all.ts) produces: the results of one run, as JSON, and the same as a table for a
// terminal or for the README (Markdown).
import type { Machine } from './machine.js';
import { type Figure, meets } from './report.js';

/** One benchmark of the run. */
export interface BenchRun {
  /** The file in bench/, e.g. `gateway.ts`. */
  bench: string;
  args: string[];
  /** `failed`: it exited non-zero, timed out or reported no figures; `missing`: the file does not exist. */
  status: 'ok' | 'failed' | 'missing';
  /** Why it failed or is missing, in a few words. */
  reason?: string;
  seconds: number;
  /** What it reported (a failed benchmark may have reported some); `met` is undefined without a goal. */
  figures: (Figure & { met?: boolean })[];
}

export interface Results {
  /** How it was started, e.g. `pnpm bench --quick`. */
  command: string;
  /** The smoke arguments: every benchmark ran, but for seconds, so the figures measure nothing. */
  quick: boolean;
  seconds: number;
  machine: Machine;
  /** Which broker the benchmarks that need one used. */
  kafka: string;
  benchmarks: BenchRun[];
}

/** The figures with their verdicts. A value that is no number (JSON has no NaN) misses any goal it has. */
export function withVerdicts(figures: Figure[]): BenchRun['figures'] {
  return figures.map((figure) => ({
    ...figure,
    met: Number.isFinite(figure.value) || !figure.goal ? meets(figure) : false,
  }));
}

/** The header lines: what ran, where, and with what. */
function header(results: Results): string[] {
  const { machine: m, quick } = results;
  const load = (values: number[] | undefined) => values?.map((v) => v.toFixed(2)).join(' ') ?? '?';
  const v = m.versions;
  return [
    `Tidemark benchmarks, ${m.date.slice(0, 16).replace('T', ' ')} UTC: \`${results.command}\` ` +
      `(${duration(results.seconds)}${quick ? '; smoke arguments, the figures measure nothing' : ''})`,
    `machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, ${m.os}`,
    `load average (1, 5, 15 min): ${load(m.load.before)} before, ${load(m.load.after)} after`,
    `versions: Node ${v.node}, pnpm ${v.pnpm}, Kafka ${v.kafka}, chDB ${v.chdb} (ClickHouse ${v.clickhouse}), ` +
      `kafkajs ${v.kafkajs}, @clickhouse/client ${v.clickhouseClient}, fastify ${v.fastify}, Chromium ${v.chromium}`,
    `Kafka: ${results.kafka}`,
    `code: commit ${m.git.commit.slice(0, 12)}${m.git.dirty ? ' with uncommitted changes' : ''}`,
  ];
}

function duration(seconds: number): string {
  return seconds < 120 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

/** A figure's value with its unit, e.g. `17,924 events/s`, `0.81` for a ratio. */
export function amount(value: number | null, unit: string): string {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  const number = value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  if (unit === 'ratio') return number;
  if (unit === '×') return `${number}×`;
  return `${number} ${unit}`;
}

function goalText(figure: Figure): string {
  return figure.goal
    ? `${figure.goal.op === '<=' ? '≤' : '≥'} ${amount(figure.goal.value, figure.unit)}`
    : '';
}

function verdict(met: boolean | undefined): string {
  return met === undefined ? '—' : met ? 'met' : 'MISSED';
}

function runText(run: BenchRun): string {
  const how =
    run.status === 'ok' ? 'ok' : `${run.status.toUpperCase()}${run.reason ? `: ${run.reason}` : ''}`;
  return `${[run.bench, ...run.args].join(' ')} (${duration(run.seconds)}) ${how}`;
}

/** The table for a terminal: a line per benchmark, then its figures in aligned columns. */
export function textTable(results: Results): string {
  const rows = results.benchmarks.flatMap((run) => [
    { heading: runText(run) },
    ...run.figures.map((f) => ({
      cells: [`  ${f.label}`, amount(f.value, f.unit), goalText(f), verdict(f.met), f.note ?? ''],
    })),
  ]);
  const titles = ['figure', 'value', 'goal', 'verdict', 'note'];
  const widths = titles.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => ('cells' in row ? (row.cells[i]?.length ?? 0) : 0))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 1 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [
    ...header(results),
    '',
    line(titles),
    ...rows.map((row) => ('cells' in row ? line(row.cells) : `── ${row.heading}`)),
  ].join('\n');
}

/** The table for the README: the header as a list, one Markdown row per figure. */
export function markdownTable(results: Results): string {
  const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const lines = header(results);
  const rows = results.benchmarks.flatMap((run) => {
    const bench = `\`${[run.bench, ...run.args].join(' ')}\``;
    if (run.figures.length === 0) return [`| ${bench} | | ${run.status} | | | ${cell(run.reason ?? '')} |`];
    const failed = run.status === 'ok' ? '' : `${run.status}: ${run.reason ?? ''}; `;
    return run.figures.map(
      (f) =>
        `| ${bench} | ${cell(f.label)} | **${cell(amount(f.value, f.unit))}** | ${cell(goalText(f))} | ` +
        `${verdict(f.met)} | ${cell(`${failed}${f.note ?? ''}`)} |`,
    );
  });
  return [
    `**${lines[0]}**`,
    '',
    ...lines.slice(1).map((line) => `- ${line}`),
    '',
    '| benchmark | figure | value | goal | | note |',
    '|---|---|---:|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
