// What `pnpm start` prints while it runs: a line when a new visitor's first events are stored, and once a minute
// a line for what else arrived. The gateway's own JSON logs (two lines per batch) are for `--verbose`.
import type { ClickHouse } from '@tidemark/store';

/** One stored event, as the console line needs it. */
interface Arrived {
  id: string;
  /** `_inserted_at` in ms since the epoch. */
  at: string;
  anonymous_id: string;
  type: string;
  bot_reason: string;
  browser: string;
  os: string;
  device_type: string;
  path: string;
}

/** What some stored events were: `3 events (1 page view, 2 track)`. */
export function summarize(events: readonly Pick<Arrived, 'type'>[]): string {
  const byType = new Map<string, number>();
  for (const { type } of events) byType.set(type, (byType.get(type) ?? 0) + 1);
  const parts = [...byType].map(([type, n]) =>
    type === 'page' ? `${n} page view${n === 1 ? '' : 's'}` : `${n} ${type}`,
  );
  return `${events.length} event${events.length === 1 ? '' : 's'} (${parts.join(', ')})`;
}

/** The line for a visitor first seen in these events. */
export function newVisitorLine(events: readonly Arrived[]): string {
  const [first] = events;
  const browser = first?.browser ? `${first.browser}${first.os ? ` on ${first.os}` : ''}` : 'unknown browser';
  const who = `${browser}${first?.device_type ? ` (${first.device_type})` : ''}`;
  const bot = first?.bot_reason
    ? `; flagged as a bot (${first.bot_reason}): stored, left out of the dashboard`
    : '';
  return `new visitor, ${who}, ${first?.path || '/'}: ${summarize(events)}${bot}`;
}

export interface ArrivalsOptions {
  /** Where the lines go (each without its time, which is added here). */
  print(line: string): void;
  /** How often to look for new rows. Default 2 s. */
  pollMs?: number;
  /** How often to print what arrived from visitors already seen. Default a minute. */
  summaryMs?: number;
}

/**
 * Looks for newly stored events every `pollMs` and reports them through `print`. Its timers never keep the process
 * alive; `stop()` ends them and resolves once a look under way is over, so that the store can close after it.
 */
export function watchArrivals(clickhouse: ClickHouse, options: ArrivalsOptions): { stop(): Promise<void> } {
  const { print, pollMs = 2000, summaryMs = 60_000 } = options;
  const time = () => new Date().toTimeString().slice(0, 8);
  const seen = new Set<string>();
  /** Events of visitors already seen, since the last summary. */
  let pending: Arrived[] = [];
  let since = Date.now();
  /** The ids stored at exactly `since`: the next poll reads from `since` again and skips these. */
  let atSince = new Set<string>();
  let primed = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const poll = async () => {
    // Visitors stored before this run (the data directory persists) count as seen, without a line.
    if (!primed) {
      const earlier = await clickhouse.query<{ anonymous_id: string }>(
        'SELECT DISTINCT anonymous_id FROM tidemark.events WHERE _inserted_at < fromUnixTimestamp64Milli({since:Int64})',
        { since },
      );
      for (const { anonymous_id } of earlier) seen.add(anonymous_id);
      primed = true;
    }
    const rows = await clickhouse.query<Arrived>(
      `SELECT toString(event_id) AS id, toUnixTimestamp64Milli(_inserted_at) AS at, anonymous_id, type,
              bot_reason, browser, os, device_type, path
         FROM tidemark.events WHERE _inserted_at >= fromUnixTimestamp64Milli({since:Int64})
        ORDER BY _inserted_at`,
      { since },
    );
    const fresh = rows.filter((row) => !atSince.has(row.id));
    if (fresh.length === 0) return;
    since = Math.max(since, ...fresh.map((row) => Number(row.at)));
    atSince = new Set(rows.filter((row) => Number(row.at) === since).map((row) => row.id));
    const byVisitor = new Map<string, Arrived[]>();
    for (const row of fresh)
      byVisitor.set(row.anonymous_id, [...(byVisitor.get(row.anonymous_id) ?? []), row]);
    for (const [visitor, events] of byVisitor) {
      if (seen.has(visitor)) pending.push(...events);
      else {
        seen.add(visitor);
        print(`${time()}  ${newVisitorLine(events)}`);
      }
    }
  };

  let lastSummary = Date.now();
  const tick = async () => {
    try {
      await poll();
    } catch {
      // A failed look (the store closing) only delays the report.
    }
    if (Date.now() - lastSummary >= summaryMs) {
      lastSummary = Date.now();
      if (pending.length > 0) {
        const visitors = new Set(pending.map((row) => row.anonymous_id)).size;
        print(
          `${time()}  ${summarize(pending)} from ${visitors} visitor${visitors === 1 ? '' : 's'} seen before`,
        );
        pending = [];
      }
    }
    if (!stopped) schedule();
  };
  const schedule = () => {
    timer = setTimeout(() => {
      running = tick();
    }, pollMs).unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
