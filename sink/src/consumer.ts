import { setTimeout as sleep } from 'node:timers/promises';
import { countRows, createBatcher } from './batcher.js';
import type { ClickHouse } from './clickhouse.js';
import type { SinkConfig } from './config.js';
import { insertEvents } from './insert-events.js';
import {
  type BatchControl,
  type ConsumedBatch,
  createKafkaConsumer,
  type DeadLetterSink,
  type EventConsumer,
} from './kafka.js';
import { createConsoleLogger, describeError, type Logger } from './log.js';
import { createSinkMetrics, type SinkMetrics } from './metrics.js';

/** A snapshot for `GET /healthz` and tests. */
export type SinkStatus = {
  /** False once stopped, or after kafkajs crashed for good. */
  running: boolean;
  /** Rows waiting for the next flush. */
  bufferedRows: number;
  /** Rows inserted into `tidemark.events` since start. */
  insertedRows: number;
  /** Rows parked in `tidemark.events_quarantine` since start. */
  quarantinedRows: number;
  /** Rows read again after a restart or rebalance and skipped because ClickHouse already had them. */
  skippedRows: number;
  /** Successful flushes (insert and commit) since start. */
  flushes: number;
  /** The last insert or commit error, cleared by the next successful flush. */
  lastError?: string;
};

/** A running sink. */
export type Sink = {
  /** Flushes what is buffered (a few tries at most), commits it, then leaves the group. Idempotent. */
  stop(): Promise<void>;
  status(): SinkStatus;
};

/** What startSink needs; only `clickhouse` is required, the rest replace defaults (tests, other clients). */
export type SinkDeps = {
  clickhouse: ClickHouse;
  /** Defaults to kafkajs built from `config.kafka`. */
  consumer?: EventConsumer;
  /** Where refused rows are reported besides the quarantine table; none when unset. */
  deadLetters?: DeadLetterSink;
  /** Defaults to a fresh registry without process metrics. */
  metrics?: SinkMetrics;
  log?: Logger;
};

const maxBackoffMs = 30_000;
/** Tries for the final flush at stop: what does not make it stays uncommitted in Kafka, so nothing is lost. */
const attemptsAtStop = 3;

/** Resolves when `task` settles or after `ms`, whichever is first, leaving no timer behind. */
function settledOrTimeout(task: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    task.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

function backoffMs(attempt: number): number {
  const base = Math.min(maxBackoffMs, 200 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

/**
 * Runs the sink (DESIGN §6.3): a consumer group reads the topic, the batcher gathers messages across
 * partitions, and each flush is one INSERT followed by the offset commit, never the other way round. A failed
 * insert is retried with backoff under the same deduplication token, so a retry that reaches ClickHouse twice
 * still stores the rows once; nothing is committed until the insert returned.
 */
export async function startSink(config: SinkConfig, deps: SinkDeps): Promise<Sink> {
  const { clickhouse } = deps;
  const log = deps.log ?? createConsoleLogger();
  const { topic } = config.kafka;
  const consumer = deps.consumer ?? createKafkaConsumer({ ...config.kafka, log });
  const { deadLetters } = deps;
  const metrics = deps.metrics ?? createSinkMetrics();
  const batcher = createBatcher({ topic, ...config.batch });
  const status: SinkStatus = {
    running: true,
    bufferedRows: 0,
    insertedRows: 0,
    quarantinedRows: 0,
    skippedRows: 0,
    flushes: 0,
  };

  // Bumped on every group (re)join: kafkajs then restarts each partition at its committed offset, so
  // whatever we buffered (or are still inserting) from before will be read again and must be dropped here.
  let generation = 0;
  // Set when this member learns the group is rebalancing, before it rejoins: from then on its partitions may
  // go to another member, which decides what to insert from what is stored, so no new insert may start here.
  let rebalancing = false;
  let stopping = false;

  // Per partition, since the last (re)join: how many rows of each offset at or past the committed one are
  // already in ClickHouse (inserted by a flush whose commit never happened: a crash, a kill, a rebalance).
  // Those messages are skipped instead of inserted twice; `null` once the partition is past all of them.
  const stored = new Map<number, Map<string, number> | null>();
  // Log end offsets seen in fetches and offsets committed, for the lag gauge.
  const highWatermarks = new Map<number, bigint>();
  const committedOffsets = new Map<number, bigint>();
  const updateLag = (partition: number) => {
    const high = highWatermarks.get(partition);
    const done = committedOffsets.get(partition);
    if (high !== undefined && done !== undefined)
      metrics.lag.set({ partition: String(partition) }, Number(high > done ? high - done : 0n));
  };

  // Batches and timer flushes run one at a time, in arrival order, so the batcher has a single writer.
  let chain: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
    const run = chain.then(task);
    chain = run.catch(() => {});
    return run;
  };

  consumer.onRebalancing(() => {
    rebalancing = true;
  });
  consumer.onRejoin(() => {
    generation += 1;
    rebalancing = false;
    stored.clear();
    if (batcher.rows > 0)
      log.info('group rejoined; dropping buffered rows to re-read them', { rows: batcher.rows });
    batcher.clear();
  });
  consumer.onCrash((error, restarting) => {
    if (restarting) {
      log.warn('kafka consumer crashed; kafkajs rejoins the group', { error: error.message });
    } else {
      log.error('kafka consumer crashed for good', { error: error.message });
      status.running = false;
    }
  });

  /** Sleeps between insert attempts, heartbeating when inside eachBatch so the group keeps us. */
  async function pause(ms: number, control: BatchControl | undefined): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await sleep(Math.min(1_000, until - Date.now()), undefined, { ref: false });
      await control?.heartbeat();
    }
  }

  /**
   * Which offsets from `from` on are already stored for `partition`, with their row counts: rows carry their
   * Kafka lineage, and the quarantine table holds the refused ones. Runs once per partition after each join.
   */
  async function storedFrom(partition: number, from: string): Promise<Map<string, number> | null> {
    const rows = await clickhouse.query<{ offset: string; rows: string }>(
      `SELECT toString(_offset) AS offset, toString(count()) AS rows FROM (
         SELECT _offset FROM tidemark.events
         WHERE _topic = {topic:String} AND _partition = {partition:UInt32} AND _offset >= {from:UInt64}
         UNION ALL
         SELECT _offset FROM tidemark.events_quarantine
         WHERE topic = {topic:String} AND _partition = {partition:UInt32} AND _offset >= {from:UInt64}
       ) GROUP BY _offset`,
      { topic, partition, from },
    );
    if (rows.length === 0) return null;
    log.info('partition has stored rows past its committed offset; skipping them', {
      partition,
      committed: from,
      messages: rows.length,
    });
    return new Map(rows.map((r) => [r.offset, Number(r.rows)]));
  }

  async function flush(control: BatchControl | undefined): Promise<void> {
    const gen = generation;
    const batch = batcher.take();
    if (!batch) return;
    metrics.buffered.set(0);
    for (let attempt = 0; ; attempt++) {
      // Another member may own these partitions by now and insert them itself (DESIGN §6.3).
      if (gen !== generation || rebalancing) {
        log.info('group rebalancing; leaving unflushed rows to the next owner', { rows: batch.rows });
        return;
      }
      const started = performance.now();
      try {
        const { quarantined, rejected } = await insertEvents(clickhouse, batch.body, {
          dedupToken: batch.dedupToken,
          topic,
        });
        // Before the commit, like the insert: a failure here retries the whole flush, and the repeated
        // inserts are no-ops under their deduplication tokens.
        await deadLetters?.send(
          rejected.map((r) => ({
            stage: 'sink',
            reason: 'clickhouse_rejected',
            error: r.error,
            topic,
            partition: r.partition,
            offset: r.offset,
            raw: r.raw,
            at: new Date().toISOString(),
          })),
        );
        metrics.insertSeconds.observe((performance.now() - started) / 1000);
        metrics.flushRows.observe(batch.rows);
        metrics.rowsInserted.inc(batch.rows - quarantined);
        metrics.bytesInserted.inc(batch.bytes);
        metrics.rowsQuarantined.inc(quarantined);
        status.insertedRows += batch.rows - quarantined;
        status.quarantinedRows += quarantined;
        if (quarantined > 0) log.warn('rows quarantined', { quarantined, token: batch.dedupToken });
        break;
      } catch (err) {
        status.lastError = describeError(err);
        metrics.insertFailures.inc({ reason: (err as { code?: string }).code ?? 'other' });
        const abandoned = gen !== generation || (control && (!control.isRunning() || control.isStale()));
        const givingUp = stopping && attempt + 1 >= attemptsAtStop;
        log.warn('insert failed', {
          error: status.lastError,
          attempt,
          rows: batch.rows,
          abandoned,
          givingUp,
        });
        // Not committed, so Kafka still has these rows: they are read again after the rebalance or restart.
        if (abandoned || givingUp) return;
        await pause(backoffMs(attempt), control);
      }
    }
    // After a rejoin the partitions may belong to another member, which re-reads from the committed offset;
    // committing ours now would fail or race it. ReplacingMergeTree absorbs the re-inserted duplicates.
    // The insert is done; the commit is idempotent, so it is retried until it lands or another member owns the
    // partitions. Should this process die first, the next owner finds the rows stored and skips them.
    for (let attempt = 0; ; attempt++) {
      if (gen !== generation || rebalancing) return;
      try {
        await consumer.commit(batch.commits);
        break;
      } catch (err) {
        status.lastError = describeError(err);
        log.warn('offset commit failed', { error: status.lastError, attempt, rows: batch.rows });
        if (stopping && attempt + 1 >= attemptsAtStop) return;
        await pause(backoffMs(attempt), control);
      }
    }
    for (const c of batch.commits) {
      committedOffsets.set(c.partition, BigInt(c.offset));
      updateLag(c.partition);
    }
    status.flushes += 1;
    status.lastError = undefined;
  }

  async function handle(batch: ConsumedBatch, control: BatchControl, gen: number): Promise<void> {
    const { partition } = batch;
    highWatermarks.set(partition, BigInt(batch.highWatermark));
    const first = batch.messages[0];
    if (first && !stored.has(partition)) {
      // The first batch after a join starts at the committed offset (or the topic's start for a new group).
      if (!committedOffsets.has(partition)) committedOffsets.set(partition, BigInt(first.offset));
      stored.set(partition, await storedFrom(partition, first.offset));
      if (gen !== generation) return;
    }
    updateLag(partition);
    let already = stored.get(partition);
    for (const message of batch.messages) {
      if (stopping || gen !== generation || !control.isRunning() || control.isStale()) return;
      const rows = already ? (already.get(message.offset) ?? 0) : 0;
      if (already && rows > 0 && rows >= countRows(message.value)) {
        // Stored by an earlier flush that was never committed: commit it with the next flush, insert nothing.
        batcher.add(partition, message.offset, '');
        status.skippedRows += rows;
        metrics.rowsSkipped.inc(rows);
        already.delete(message.offset);
        if (already.size === 0) {
          already = null;
          stored.set(partition, null);
        }
      } else {
        batcher.add(partition, message.offset, message.value);
      }
      // Resolving only moves the fetch position (autoCommit is off): the commit waits for the insert.
      control.resolveOffset(message.offset);
      if (batcher.isFull()) await flush(control);
    }
    metrics.buffered.set(batcher.rows);
    if (batcher.isDue()) await flush(control);
    await control.heartbeat();
  }

  /**
   * Waits for our turn (a timer flush may be retrying an insert) while heartbeating. Never returns while the
   * task runs: kafkajs rejoins the group only after eachBatch settled, and the coordinator hands our partitions
   * to another member only after we rejoined, so an insert of ours cannot land after the new owner looked at
   * what is stored.
   */
  async function onBatch(batch: ConsumedBatch, control: BatchControl): Promise<void> {
    const gen = generation;
    let settled = false;
    const task = exclusive(() => handle(batch, control, gen)).finally(() => {
      settled = true;
    });
    while (!settled) {
      await settledOrTimeout(task, 1_000);
      if (settled) break;
      try {
        await control.heartbeat();
      } catch (err) {
        // The group is rebalancing (or the coordinator is gone): let the running insert finish first.
        await task.catch(() => {});
        throw err;
      }
    }
    await task;
  }

  // Flushes by time when no new batch arrives to do it. Unref'd: it never keeps the process alive.
  let timerFlushQueued = false;
  const timer = setInterval(
    () => {
      if (stopping || rebalancing || timerFlushQueued || !batcher.isDue()) return;
      timerFlushQueued = true;
      exclusive(() => flush(undefined))
        .catch((err) => log.error('timed flush failed', { error: describeError(err) }))
        .finally(() => {
          timerFlushQueued = false;
        });
    },
    Math.min(250, Math.max(10, Math.floor(config.batch.maxWaitMs / 4))),
  );
  timer.unref();

  try {
    await consumer.run(onBatch);
  } catch (err) {
    clearInterval(timer);
    await consumer.disconnect().catch(() => {});
    throw err;
  }
  log.info('sink started', { topic, groupId: config.kafka.groupId, backend: clickhouse.backend });

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(timer);
        // Before disconnecting: kafkajs ignores commits once the consumer stopped running.
        await exclusive(() => flush(undefined)).catch((err) =>
          log.error('final flush failed; rows stay in Kafka', { error: describeError(err) }),
        );
        await consumer.disconnect();
        await deadLetters
          ?.disconnect()
          .catch((err) => log.warn('dead-letter producer disconnect failed', { error: describeError(err) }));
        status.running = false;
        log.info('sink stopped', { insertedRows: status.insertedRows });
      })();
      return stopped;
    },
    status: () => ({ ...status, bufferedRows: batcher.rows }),
  };
}
