// What every chaos, soak and hostile-input scenario answers, so `pnpm chaos` (chaos/run.ts) can put them in one
// table and one JSON file, and the CI tests (test/chaos-*.test.ts) can judge the short runs by the same counts.

/** The outcome of one delivery scenario: a fault (or none) under load, counted against ClickHouse. */
export interface DeliveryResult {
  /** e.g. `gateway SIGKILL ×3`, `broker SIGSTOP 30 s`, `soak 10 min`. */
  scenario: string;
  /** How many times the fault was applied (0 for the soak). */
  faults: number;
  /** Distinct event ids the load generator (or SDK) considers delivered: it got a 2xx for them. */
  sent: number;
  /** Distinct of those ids found in tidemark.events. */
  stored: number;
  /** sent − stored. */
  lost: number;
  /** Rows beyond one per event id that the shipped queries can see (FINAL), over all ids. */
  doubled: number;
  /**
   * Rows beyond one per event id without FINAL: copies a plain count() would see. Since the sink and the writer
   * leave out ids already stored (DESIGN §6), 0; absent where a scenario does not count it.
   */
  rawDuplicates?: number;
  /**
   * Visitors with several visitor numbers, numbers shared by several visitors, and rows without one (store/sql/040):
   * 0, or the rollups' visitor counts are off; absent where a scenario does not count it.
   */
  renumbered?: number;
  /** Events the ready `overview` query counts for the run's project and time range. */
  counted: number;
  /** Longest time from a fault's end to the pipeline delivering again (a 2xx, and fresh rows), in ms. */
  recoveryMs?: number;
  durationMs: number;
  /** Anything else measured: RSS, open files, lag over time, freshness… as short `name: value` lines. */
  notes: string[];
  /**
   * Checks of the scenario's own that failed, one line each: the fault did not show as it must (no 503 while
   * the broker was down), events left unacknowledged, a soak figure that did not stay flat. Absent or empty
   * when all held; `pnpm chaos` fails on any.
   */
  failed?: string[];
}

/** The outcome of the hostile-input run. */
export interface HostileResult {
  scenario: string;
  /** Requests made, by kind of hostility. */
  requests: Record<string, number>;
  total: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
  /** Answers that were not the expected 4xx with a reason (or 503 when shedding): must be 0. */
  wrong: number;
  /** Valid events inside mixed batches that the gateway accepted, and how many of them are stored. */
  validSent: number;
  validStored: number;
  /** Rows stored that no valid event accounts for: must be 0. */
  unexpectedStored: number;
  /** Whether the gateway process stayed up, and its RSS at the end in MB. */
  survived: boolean;
  rssMb?: number;
  durationMs: number;
  notes: string[];
}

export type ChaosResult = ({ kind: 'delivery' } & DeliveryResult) | ({ kind: 'hostile' } & HostileResult);

/** What chaos/run.ts and the CI tests pass to every scenario. */
export interface ScenarioOptions {
  /** A running broker to use (the CI tests pass the shared test broker); unset: the scenario starts its own. */
  brokers?: string[];
  /** The short CI version (seconds to a couple of minutes) instead of the full one. */
  short: boolean;
  /** Progress lines for a reader; default console.log. */
  log?: (line: string) => void;
}

/**
 * Each scenario module exports one function of this shape. The modules, by file: chaos/scenarios/process-faults.ts
 * (gateway, sink, broker and ClickHouse faults and the soak: several scenarios), chaos/scenarios/browser-offline.ts,
 * chaos/scenarios/hostile.ts, chaos/scenarios/erasure.ts.
 */
export type Scenario<R extends DeliveryResult | HostileResult> = (options: ScenarioOptions) => Promise<R>;
