// The one way a benchmark hands its figures to `pnpm bench` (bench/all.ts): besides printing them for a reader,
// each benchmark calls `report()` once at its end. When TIDEMARK_BENCH_REPORT names a file (bench/all.ts sets it
// for each child it runs), the figures are written there as JSON; otherwise nothing happens. The writing itself is
// in bench/report-file.mjs, shared with the one benchmark in plain JavaScript.
import { writeReport } from './report-file.mjs';

/** A goal a figure is judged against, e.g. `{ op: '<=', value: 2000 }` for "p99 ≤ 2 s" in ms. */
export interface Goal {
  op: '<=' | '>=';
  value: number;
}

export interface Figure {
  /** Stable machine key, e.g. `e2e.distributed.5000.freshness_p99_ms`. */
  key: string;
  /** What a reader of the table sees, e.g. "freshness p99 at 5 000 events/s (distributed)". */
  label: string;
  value: number;
  /** `ms`, `events/s`, `B`, `MB`, `µs`, `ratio`, `rows/s`… */
  unit: string;
  goal?: Goal;
  /** One short line of context: arguments, rounds, what bounded it. */
  note?: string;
}

export interface BenchReport {
  /** The benchmark file, e.g. `e2e.ts`. */
  bench: string;
  /** The arguments it ran with. */
  args: string[];
  figures: Figure[];
}

/** Whether a figure meets its goal; undefined without a goal. */
export function meets(figure: Figure): boolean | undefined {
  if (!figure.goal) return undefined;
  return figure.goal.op === '<=' ? figure.value <= figure.goal.value : figure.value >= figure.goal.value;
}

/** Writes the figures to TIDEMARK_BENCH_REPORT, when it is set. */
export function report(bench: string, figures: Figure[]): void {
  writeReport(bench, figures);
}
