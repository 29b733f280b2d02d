// When did each batch become visible to a SELECT? A poller asks the store, every `intervalMs`, which of the run's
// batches have rows inserted since the oldest batch still unseen was sent, and stamps each batch whose rows are
// all there with the time that answer arrived. The stamp is an upper bound: the rows became visible somewhere
// between the previous answer and this one, so the resolution is the poll interval plus one poll's round trip
// (both are printed). Alongside, `_inserted_at` (the store's now64() when the INSERT ran, DESIGN §5) gives a lower
// bound that no polling blurs.

/** One batch's rows as the poll query sees them. */
export interface BatchRows {
  /** The batch's session id, `<tag>-<n>`. */
  session: string;
  rows: number;
  /** Latest `_inserted_at` of its rows, epoch ms. */
  insertedAt: number;
}

/** Runs the poll query: rows of `project` inserted at or after `sinceMs` (epoch ms), grouped by batch. */
export type PollQuery = (project: string, sinceMs: number) => Promise<BatchRows[]>;

/** What the poller saw for one batch. */
export interface Seen {
  /** When the answer that showed all its rows arrived, epoch ms. */
  visibleAt: number;
  insertedAt: number;
}

/** The SQL of the poll, the same over ClickHouse's HTTP interface and the gateway's read API. */
export const pollSql =
  'SELECT session_id, count() AS rows, toUnixTimestamp64Milli(max(_inserted_at)) AS inserted_at ' +
  'FROM tidemark.events WHERE project_id = {project:String} ' +
  "AND _inserted_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') GROUP BY session_id";

export interface Poller {
  /** Starts looking for batch `n`, sent (due) at `dueAt`, epoch ms. */
  expect(n: number, dueAt: number): void;
  /** Stops looking for batch `n` (the gateway refused it). */
  forget(n: number): void;
  /** Batches seen so far, by number. */
  seen: Map<number, Seen>;
  /** Batches expected and not seen yet. */
  readonly pending: number;
  /** Resolves once nothing is pending, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
  /** Poll round trips so far, ms. */
  roundTrips: number[];
  /** Failed polls (they are retried at the next interval). */
  errors: number;
  stop(): void;
}

export function startPoller(opts: {
  query: PollQuery;
  project: string;
  tag: string;
  eventsPerBatch: number;
  intervalMs: number;
}): Poller {
  const pendingDue = new Map<number, number>();
  const seen = new Map<number, Seen>();
  const roundTrips: number[] = [];
  let errors = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const prefix = `${opts.tag}-`;

  const poll = async () => {
    if (pendingDue.size === 0) return;
    // Rows cannot be inserted before their batch was sent: the oldest unseen batch bounds what to read. A second
    // of slack covers the store's clock reading (now64 at the insert's start) against ours.
    let oldest = Number.POSITIVE_INFINITY;
    for (const due of pendingDue.values()) oldest = Math.min(oldest, due);
    const asked = Date.now();
    const rows = await opts.query(opts.project, Math.floor(oldest) - 1000);
    const answered = Date.now();
    roundTrips.push(answered - asked);
    for (const row of rows) {
      if (!row.session.startsWith(prefix)) continue;
      const n = Number(row.session.slice(prefix.length));
      if (!pendingDue.has(n) || row.rows < opts.eventsPerBatch) continue;
      pendingDue.delete(n);
      seen.set(n, { visibleAt: answered, insertedAt: row.insertedAt });
    }
  };

  const loop = async () => {
    if (stopped) return;
    const started = Date.now();
    try {
      await poll();
    } catch {
      errors += 1;
    }
    if (!stopped) timer = setTimeout(loop, Math.max(0, opts.intervalMs - (Date.now() - started)));
  };
  void loop();

  return {
    expect(n, dueAt) {
      if (!seen.has(n)) pendingDue.set(n, dueAt);
    },
    forget(n) {
      pendingDue.delete(n);
    },
    seen,
    get pending() {
      return pendingDue.size;
    },
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (pendingDue.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    },
    roundTrips,
    get errors() {
      return errors;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** The q-quantile (0…1) of sorted values, nearest rank; NaN when empty. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}
