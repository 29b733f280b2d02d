// `pnpm start --demo` (or TIDEMARK_DEMO=1): a month of realistic traffic for the project "demo", so a first look at
// the dashboard shows every panel working. The events are bench/read.ts's (bench/read-events.ts): ClickHouse writes
// them itself, `INSERT … SELECT … FROM numbers()`, into the real events table after the real migrations, so every
// rollup fills as it does from live traffic. Every value is a hash of the session's number and fixed salts: two runs
// write the same traffic, shifted to end at the moment they run.
//
// The demo never opens the user's store: it runs on a chDB directory of its own (`TIDEMARK_DEMO_PATH`, else a new
// scratch directory removed on exit), whatever TIDEMARK_CHDB_PATH or CLICKHOUSE_URL say.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ClickHouse } from '@tidemark/store';
import { type Generated, generate } from '../bench/read-events.js';

/** Where the demo's store lives, and how to leave it on exit. */
export interface DemoStore {
  chdbPath: string;
  /** Removes a scratch directory; keeps one named by TIDEMARK_DEMO_PATH. */
  dispose(): Promise<void>;
}

/** Whether this run is the demo: `--demo` on the command line or TIDEMARK_DEMO=1. */
export const isDemo = (argv: readonly string[], env: NodeJS.ProcessEnv) =>
  argv.includes('--demo') || env.TIDEMARK_DEMO === '1';

/**
 * The demo's chDB directory: TIDEMARK_DEMO_PATH, or a new scratch directory. Refuses one that is the user's own
 * store (TIDEMARK_CHDB_PATH, or its default ./.data/chdb), so the demo's month can never mix with real events.
 */
export async function openDemoStore(env: NodeJS.ProcessEnv): Promise<DemoStore> {
  const named = env.TIDEMARK_DEMO_PATH?.trim();
  if (named) {
    const real = resolve(env.TIDEMARK_CHDB_PATH?.trim() || './.data/chdb');
    if (resolve(named) === real) {
      throw new Error(`TIDEMARK_DEMO_PATH is the real store (${real}); give the demo a directory of its own`);
    }
    return { chdbPath: named, dispose: async () => {} };
  }
  const chdbPath = await mkdtemp(join(tmpdir(), 'tidemark-demo-'));
  return { chdbPath, dispose: () => rm(chdbPath, { recursive: true, force: true }) };
}

const hour = 3_600_000;
const day = 86_400_000;

/**
 * Writes `events` events (300,000 by default: about 10,000 a day, from some 6,000 visitors) over the 30 days before
 * `now` into project "demo", unless the store already holds events of it (a kept TIDEMARK_DEMO_PATH).
 */
export async function fillDemo(
  clickhouse: ClickHouse,
  opts: { events?: number; now?: number; onChunk?: (stored: number) => void } = {},
): Promise<Generated | undefined> {
  const [kept] = await clickhouse.query<{ n: number }>(
    "SELECT count() AS n FROM tidemark.events WHERE project_id = 'demo'",
  );
  if (Number(kept?.n ?? 0) > 0) return undefined;
  const events = opts.events ?? 300_000;
  const now = opts.now ?? Date.now();
  const traffic = {
    project: 'demo',
    visitors: Math.max(10, Math.round(events / 50)),
    visitorsSinceMs: now - 30 * day,
    startMs: now - 30 * day,
    spanMs: 30 * day - hour,
    daily: true,
  };
  // The last hour evenly, whatever the hour of day: the daily peak leaves the evening's last hours nearly empty,
  // and the first look should show the site alive (its last minutes, the active visitors).
  const tail = Math.max(1, Math.round(events / (30 * 24)));
  const month = await generate(clickhouse, traffic, events - tail, {
    chunkEvents: 100_000,
    onChunk: opts.onChunk,
  });
  const last = await generate(
    clickhouse,
    { ...traffic, startMs: now - hour, spanMs: hour, daily: false },
    tail,
    {
      chunkEvents: 100_000,
      firstSession: month.sessions,
    },
  );
  return {
    events: month.events + last.events,
    sessions: month.sessions + last.sessions,
    seconds: month.seconds + last.seconds,
    chunks: month.chunks + last.chunks,
  };
}
