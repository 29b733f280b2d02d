import { setTimeout as sleep } from 'node:timers/promises';
import { createBatcher } from './batcher.js';
import type { ClickHouse } from './clickhouse.js';
import type { SinkConfig } from './config.js';
import { insertEvents } from './insert-events.js';
import { type BatchControl, type ConsumedBatch, createKafkaConsumer, type EventConsumer } from './kafka.js';
import { createConsoleLogger, describeError, type Logger } from './log.js';

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
  const batcher = createBatcher({ topic, ...config.batch });
  const status: SinkStatus = {
    running: true,
    bufferedRows: 0,
    insertedRows: 0,
    quarantinedRows: 0,
    flushes: 0,
  };

  // Bumped on every group (re)join: kafkajs then restarts each partition at its committed offset, so
  // whatever we buffered (or are still inserting) from before will be read again and must be dropped here.
  let generation = 0;
  let stopping = false;

  // Batches and timer flushes run one at a time, in arrival order, so the batcher has a single writer.
  let chain: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
    const run = chain.then(task);
    chain = run.catch(() => {});
    return run;
  };

  consumer.onRejoin(() => {
    generation += 1;
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

  async function flush(control: BatchControl | undefined): Promise<void> {
    const gen = generation;
    const batch = batcher.take();
    if (!batch) return;
    for (let attempt = 0; ; attempt++) {
      try {
        const { quarantined } = await insertEvents(clickhouse, batch.body, {
          dedupToken: batch.dedupToken,
          topic,
        });
        status.insertedRows += batch.rows - quarantined;
        status.quarantinedRows += quarantined;
        if (quarantined > 0) log.warn('rows quarantined', { quarantined, token: batch.dedupToken });
        break;
      } catch (err) {
        status.lastError = describeError(err);
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
    if (gen !== generation) return;
    await consumer.commit(batch.commits);
    status.flushes += 1;
    status.lastError = undefined;
  }

  async function handle(batch: ConsumedBatch, control: BatchControl, gen: number): Promise<void> {
    for (const message of batch.messages) {
      if (stopping || gen !== generation || !control.isRunning() || control.isStale()) return;
      batcher.add(batch.partition, message.offset, message.value);
      // Resolving only moves the fetch position (autoCommit is off): the commit waits for the insert.
      control.resolveOffset(message.offset);
      if (batcher.isFull()) await flush(control);
    }
    if (batcher.isDue()) await flush(control);
    await control.heartbeat();
  }

  /** Waits for our turn (a timer flush may be retrying an insert) while heartbeating. */
  async function onBatch(batch: ConsumedBatch, control: BatchControl): Promise<void> {
    const gen = generation;
    let settled = false;
    const task = exclusive(() => handle(batch, control, gen)).finally(() => {
      settled = true;
    });
    while (!settled) {
      await settledOrTimeout(task, 1_000);
      if (!settled) await control.heartbeat();
    }
    await task;
  }

  // Flushes by time when no new batch arrives to do it. Unref'd: it never keeps the process alive.
  let timerFlushQueued = false;
  const timer = setInterval(
    () => {
      if (stopping || timerFlushQueued || !batcher.isDue()) return;
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
        status.running = false;
        log.info('sink stopped', { insertedRows: status.insertedRows });
      })();
      return stopped;
    },
    status: () => ({ ...status, bufferedRows: batcher.rows }),
  };
}
