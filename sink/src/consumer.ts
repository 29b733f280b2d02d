import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BodyIds,
  type ClickHouse,
  createVisitorNumbering,
  eventIdOf,
  insertEvents,
  insertUniqueEvents,
  type RejectedRow,
  readIds,
  recordIds,
  type UniqueInsert,
} from '@tidemark/store';
import { type CommitOffset, createBatcher, type Flush } from './batcher.js';
import type { SinkConfig } from './config.js';
import {
  type BatchControl,
  type ConsumedBatch,
  createKafkaConsumer,
  type DeadLetterSink,
  type EventConsumer,
} from './kafka.js';
import { createConsoleLogger, describeError, type Logger } from './log.js';
import { createSinkMetrics, type SinkMetrics } from './metrics.js';
import { unstoredLines } from './unstoredLines.js';

/** A snapshot for `GET /healthz` and tests. */
export type SinkStatus = {
  /** False once stopped, or after kafkajs crashed for good. */
  running: boolean;
  /** Rows waiting for the next flush. */
  bufferedRows: number;
  /** Rows of flushes taken care of since start: inserted, or left out because their event was stored already. */
  insertedRows: number;
  /** Rows left out since start because their event id was stored already or earlier in the same flush. */
  duplicateRows: number;
  /** Rows parked in `tidemark.events_quarantine` since start. */
  quarantinedRows: number;
  /**
   * Rows of flushes rebuilt from an earlier owner's announcement after a restart or rebalance (stored once
   * however often they were sent).
   */
  replayedRows: number;
  /** Successful flushes (insert and commit) since start. */
  flushes: number;
  /** The last insert or commit error, cleared by the next successful flush. */
  lastError?: string;
};

/**
 * The status of a sink that has read nothing yet; `running: false` where no sink runs (the health endpoint's
 * fallback).
 */
export const initialStatus = (running: boolean): SinkStatus => ({
  running,
  bufferedRows: 0,
  insertedRows: 0,
  duplicateRows: 0,
  quarantinedRows: 0,
  replayedRows: 0,
  flushes: 0,
});

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
 * What an owner writes into the committed offset's metadata before it inserts: the range it is inserting, and
 * the deduplication token of the INSERT that carries it when that is not the range's own (`token`: one INSERT
 * took several partitions' ranges).
 */
type Announcement = { v: 1; first: string; last: string; token?: string };

function parseAnnouncement(metadata: string | null | undefined): Announcement | undefined {
  if (!metadata) return undefined;
  try {
    const parsed = JSON.parse(metadata) as Partial<Announcement>;
    if (
      parsed.v === 1 &&
      typeof parsed.first === 'string' &&
      typeof parsed.last === 'string' &&
      (parsed.token === undefined || typeof parsed.token === 'string')
    )
      return parsed as Announcement;
  } catch {
    // Metadata written by another tool: not ours to replay.
  }
  return undefined;
}

/** The flushes one INSERT carries, under one deduplication token. */
type Insert = {
  flushes: Flush[];
  body: string;
  rows: number;
  bytes: number;
  dedupToken: string;
  /** True for an announced range an earlier owner may have inserted already (see `Batcher.replay`). */
  replay: boolean;
  /**
   * New rows only: their ids, looked up when the flush was taken, possibly while the flush before it was still
   * inserting (undefined when that lookup failed: the insert looks them up itself).
   */
  read?: Promise<BodyIds | undefined>;
  /** With `read`: the ids recorded in tidemark.event_ids since that lookup began. */
  storedSince?: Set<string>;
};

/** A range's own token, the one `createBatcher` gives a flush: `topic:partition:first-last`. */
function rangeToken(topic: string, flush: Flush): string {
  return `${topic}:${flush.partition}:${flush.first}-${flush.last}`;
}

/**
 * The token of one INSERT of several partitions' ranges: `topic:p:first-last,q:first-last…`, or, past 200
 * characters, the topic and a SHA-256 of that list. It is announced in each partition's offset metadata, which
 * Kafka caps (`offset.metadata.max.bytes`, 4096 by default): a topic of a few hundred partitions would exceed it
 * spelled out, and the commit would be refused. Replays never parse it, only send it again.
 */
export function multiRangeToken(topic: string, flushes: readonly Flush[]): string {
  const ranges = flushes.map((f) => `${f.partition}:${f.first}-${f.last}`).join(',');
  const token = `${topic}:${ranges}`;
  if (token.length <= 200) return token;
  return `${topic}:${flushes.length} ranges:${createHash('sha256').update(ranges).digest('hex')}`;
}

/**
 * The INSERTs of one take(): every partition's new rows in one INSERT, and each replayed range in one of its own
 * under the token its first owner announced. ClickHouse's cost per INSERT barely depends on its rows at these
 * sizes (a new part per table, materialized views included): in chDB here, 840 rows went in 3–5× faster as one
 * INSERT than as six of 140, and 4 200 rows likewise, so an INSERT per partition made every flush about as many
 * times slower as the topic has partitions (6 by default). The token of a multi-partition INSERT lists each range (`topic:p:first-last,q:first-last`) and
 * is announced with each of them, so whoever replays any of those ranges inserts under the same token, and
 * the lineage count after a replay inserts what a token taken without its rows left out.
 */
function insertsOf(topic: string, flushes: Flush[]): Insert[] {
  const single = (f: Flush): Insert => ({
    flushes: [f],
    body: f.body,
    rows: f.rows,
    bytes: f.bytes,
    // A replayed range of a multi-partition INSERT goes under that INSERT's token and its own range: under the
    // bare token, the first range replayed would take it and ClickHouse would drop the others as duplicates.
    // What the earlier INSERT stored of this range is left out by lineage (see insertUniqueEvents).
    dedupToken:
      f.replay && f.dedupToken !== rangeToken(topic, f)
        ? `${f.dedupToken}/${f.partition}:${f.first}-${f.last}`
        : f.dedupToken,
    replay: f.replay,
  });
  const fresh = flushes.filter((f) => !f.replay);
  const inserts = flushes.filter((f) => f.replay).map(single);
  if (fresh.length === 1 && fresh[0]) inserts.push(single(fresh[0]));
  else if (fresh.length > 1) {
    inserts.push({
      flushes: fresh,
      // Appended, not joined: see the batcher's Segment.text.
      body: fresh.reduce((body, f) => body + f.body, ''),
      rows: fresh.reduce((n, f) => n + f.rows, 0),
      bytes: fresh.reduce((n, f) => n + f.bytes, 0),
      dedupToken: multiRangeToken(topic, fresh),
      replay: false,
    });
  }
  return inserts;
}

/**
 * Runs the sink (DESIGN §6.3). A consumer group reads the topic; the batcher gathers messages into one flush
 * per partition, and the flushes taken together go in one INSERT (see `insertsOf`). They are announced,
 * inserted, then committed:
 *   1. commit each partition's current position with `{first, last}` of its flush as metadata, and the INSERT's
 *      token when it covers several partitions — the coordinator accepts it only from the member that owns the
 *      partition in the current generation;
 *   2. INSERT the rows with that token (`topic:partition:first-last` for one range), retried with backoff under
 *      it;
 *   3. commit `last + 1`, clearing the metadata; when the next flush is taken already, its announcement (step 1,
 *      at that same position) is this commit, with the plain commit of any partition it does not cover.
 * Whoever reads a partition next (this process after a rejoin, another member, a restarted sink) finds the
 * announcement beside the committed offset and rebuilds that range's rows under the announced token before
 * anything else: if the earlier insert landed, or lands later, ClickHouse keeps one copy. So inserts may run
 * while kafkajs fetches the next batch, and a rebalance or a kill at any moment stores every row once.
 * A token ClickHouse took is no proof that its rows are stored (a kill between its deduplication log and its
 * part keeps the one without the other), so after a replay or a retry the range's rows are counted by their
 * lineage, and what is missing is inserted again under a fresh token before the commit.
 */
export async function startSink(config: SinkConfig, deps: SinkDeps): Promise<Sink> {
  const { clickhouse } = deps;
  const log = deps.log ?? createConsoleLogger();
  const { topic } = config.kafka;
  const consumer = deps.consumer ?? createKafkaConsumer({ ...config.kafka, log });
  const { deadLetters } = deps;
  const metrics = deps.metrics ?? createSinkMetrics();
  const batcher = createBatcher({ topic, ...config.batch });
  // Visitor numbers given per partition (store/sql/040): read again whenever a partition does not continue here.
  const visitors = createVisitorNumbering();
  const status = initialStatus(true);

  // Bumped on every group (re)join: kafkajs then restarts each partition at its committed offset, so
  // whatever we buffered or queued from before will be read again and is dropped here.
  let generation = 0;
  // Set when this member learns the group is rebalancing, before it rejoins: its partitions may go to another
  // member, so no new flush starts here (one under way finishes; the next owner replays it anyway).
  let rebalancing = false;
  let stopping = false;
  const owns = (gen: number) => gen === generation && !rebalancing;

  // Per generation, the group's committed offsets with their announcements, read once on the first batch.
  let announced:
    | { gen: number; offsets: Promise<Map<number, { offset: string; metadata: string | null }>> }
    | undefined;
  // Partitions whose first batch since the last join was looked at.
  const started = new Set<number>();
  // Log end offsets seen in fetches and offsets committed, for the lag gauge.
  const highWatermarks = new Map<number, bigint>();
  const committedOffsets = new Map<number, bigint>();
  const updateLag = (partition: number) => {
    const high = highWatermarks.get(partition);
    const done = committedOffsets.get(partition);
    if (high !== undefined && done !== undefined)
      metrics.lag.set({ partition: String(partition) }, Number(high > done ? high - done : 0n));
  };

  consumer.onRebalancing(() => {
    rebalancing = true;
  });
  consumer.onRejoin(() => {
    generation += 1;
    rebalancing = false;
    started.clear();
    if (batcher.rows > 0)
      log.info('group rejoined; dropping buffered rows to re-read them', { rows: batcher.rows });
    batcher.clear();
    metrics.buffered.set(0);
  });
  consumer.onCrash((error, restarting) => {
    if (restarting) {
      log.warn('kafka consumer crashed; kafkajs rejoins the group', { error: error.message });
    } else {
      log.error('kafka consumer crashed for good', { error: error.message });
      status.running = false;
    }
  });

  /** Sleeps between attempts, heartbeating when called from inside eachBatch so the group keeps us. */
  async function pause(ms: number, control: BatchControl | undefined): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await sleep(Math.min(1_000, until - Date.now()), undefined, { ref: false });
      await control?.heartbeat();
    }
  }

  /**
   * Commits until the coordinator took it, or gives up (false) when the partitions may have moved or the sink is
   * stopping and out of tries. A commit is idempotent: repeating it is always safe.
   */
  async function commit(
    offsets: (CommitOffset & { metadata: string | null })[],
    gen: number,
    what: string,
  ): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (!owns(gen)) return false;
      try {
        await consumer.commit(offsets);
        return owns(gen);
      } catch (err) {
        status.lastError = describeError(err);
        log.warn(`${what} commit failed`, { error: status.lastError, attempt, partitions: offsets.length });
        if (stopping && attempt + 1 >= attemptsAtStop) return false;
        await pause(backoffMs(attempt), undefined);
      }
    }
  }

  /**
   * Inserts again, under a token no insert used before, the messages of `flush` whose rows are not stored
   * although its own token was taken. Not without a token: ClickHouse would then deduplicate by a hash of the
   * rows, and a kill inside this insert could leave that hash logged without the rows just the same.
   */
  async function insertUnstored(
    flush: Flush,
    sent: string,
  ): Promise<{ rows: number; quarantined: number; rejected: RejectedRow[] }> {
    const { partition, first, last } = flush;
    const missing = await unstoredLines(clickhouse, sent, { topic, partition, first, last });
    if (missing.rows === 0) return { rows: 0, quarantined: 0, rejected: [] };
    metrics.recountFound.inc();
    log.warn('rows missing although ClickHouse took their token; inserting them again', {
      partition,
      first,
      last,
      rows: missing.rows,
      messages: missing.offsets.length,
    });
    const result = await insertEvents(clickhouse, missing.text, {
      dedupToken: `${topic}:${partition}:${first}-${last}/again-${randomUUID()}`,
      topic,
    });
    metrics.rowsReinserted.inc(missing.rows);
    return { rows: missing.rows, ...result };
  }

  /** An INSERT's ranges for a log line: `p:first-last,…`. */
  const rangesOf = (ins: Insert) => ins.flushes.map((f) => `${f.partition}:${f.first}-${f.last}`).join(',');

  /**
   * Logs how a replay or retry classified the rows of its ranges: left out as known (their ids recorded as stored),
   * repeated within the body, stored by an earlier insert of the range (by lineage) or parked in its quarantine,
   * erased; sent; and what the recount inserted again.
   */
  function logClassified(ins: Insert, attempt: number, sent: UniqueInsert, reinserted: number): void {
    const [only] = ins.flushes;
    const where =
      ins.flushes.length === 1 && only
        ? { partition: only.partition, first: only.first, last: only.last }
        : { ranges: rangesOf(ins) };
    log.info(ins.replay ? 'announced flush replayed' : 'insert retried', {
      ...where,
      attempt,
      rows: ins.rows,
      known: sent.known,
      repeated: sent.duplicates - sent.known,
      storedByLineage: sent.storedBefore - sent.parked,
      parked: sent.parked,
      erased: sent.erased,
      sent: sent.sent,
      reinserted,
      token: sent.dedupToken,
    });
  }

  /**
   * Inserts one INSERT's flushes, retrying under its token; false when it gave up (nothing is lost: see above).
   */
  async function insert(ins: Insert, gen: number): Promise<boolean> {
    if (ins.rows === 0) return true;
    for (let attempt = 0; ; attempt++) {
      if (!owns(gen)) {
        log.info('partitions moved before the insert; leaving the announced rows to the next owner', {
          ranges: rangesOf(ins),
          attempt,
        });
        return false;
      }
      const startedAt = performance.now();
      try {
        // A replay or a retry may find its rows stored by the insert before it: those are left out by lineage.
        const earlier = ins.replay || attempt > 0;
        const read = earlier ? undefined : await ins.read;
        const sent = await insertUniqueEvents(clickhouse, ins.body, {
          dedupToken: ins.dedupToken,
          topic,
          visitors,
          ...(read ? { read, storedSince: ins.storedSince } : {}),
          ...(earlier
            ? {
                ranges: ins.flushes.map((f) => ({
                  topic,
                  partition: f.partition,
                  first: f.first,
                  last: f.last,
                })),
              }
            : {}),
        });
        let { quarantined, rejected } = sent;
        let reinserted = 0;
        // A replay or retry that sends the rows an earlier insert sent goes under the same token: ClickHouse may
        // hold it without the rows (see unstoredLines), and then took nothing just now. A check that normally finds
        // nothing; counted per partition, as the lineage names each message by partition and offset.
        if (earlier && sent.text) {
          for (const flush of ins.flushes) {
            const again = await insertUnstored(flush, sent.text);
            reinserted += again.rows;
            quarantined += again.quarantined;
            rejected = rejected.concat(again.rejected);
          }
        }
        // What a replay or retry made of each row, so that a range it sent nothing of says why.
        if (earlier) logClassified(ins, attempt, sent, reinserted);
        // Only now are the rows known to be stored: an id recorded earlier, with its row lost, would make the
        // replay leave the row out. The ids of rows refused by the recount's insert are not recorded.
        const refused = new Set(rejected.map((r) => eventIdOf(r.raw)));
        const recorded = sent.ids.filter((id) => !refused.has(id));
        await recordIds(clickhouse, recorded);
        // After the write returned: a lookup that begins from now on finds them in the table.
        for (const since of lookups) for (const id of recorded) since.add(id);
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
        metrics.insertSeconds.observe((performance.now() - startedAt) / 1000);
        metrics.flushRows.observe(ins.rows);
        metrics.rowsInserted.inc(ins.rows - quarantined - sent.duplicates - sent.erased);
        metrics.rowsDuplicate.inc(sent.duplicates);
        metrics.rowsErased.inc(sent.erased);
        metrics.bytesInserted.inc(ins.bytes);
        metrics.rowsQuarantined.inc(quarantined);
        status.insertedRows += ins.rows - quarantined;
        status.duplicateRows += sent.duplicates;
        status.quarantinedRows += quarantined;
        if (ins.replay) {
          status.replayedRows += ins.rows;
          metrics.rowsReplayed.inc(ins.rows);
        }
        if (quarantined > 0) log.warn('rows quarantined', { quarantined, token: ins.dedupToken });
        return true;
      } catch (err) {
        status.lastError = describeError(err);
        metrics.insertFailures.inc({ reason: (err as { code?: string }).code ?? 'other' });
        const abandoned = gen !== generation;
        const givingUp = stopping && attempt + 1 >= attemptsAtStop;
        log.warn('insert failed', {
          error: status.lastError,
          attempt,
          rows: ins.rows,
          abandoned,
          givingUp,
        });
        // Not committed, so Kafka still has these rows, and the announcement names their range.
        if (abandoned || givingUp) return false;
        await pause(backoffMs(attempt), undefined);
      }
    }
  }

  // A generation in which a flush gave up half-way: nothing after it may be announced or committed in that
  // generation, or a later commit would pass over rows that are not stored.
  let brokenGen = -1;
  // A flush whose inserts returned and whose commit was left to the flush queued behind it (see run).
  let owed: { gen: number; flushes: Flush[] } | undefined;

  /** Records that the flushes' offsets are committed: the lag gauge and the status. */
  function committedFlushes(flushes: Flush[]): void {
    for (const f of flushes) {
      committedOffsets.set(f.partition, BigInt(f.commit.offset));
      updateLag(f.partition);
    }
    status.flushes += 1;
    status.lastError = undefined;
  }

  /**
   * Announces, inserts and commits the flushes of one take(), in that order (see startSink). When another flush is
   * queued behind this one, the commit is left to it: its announcement goes to the same position (its `first` is
   * this flush's `last + 1` in each partition both cover), which says as much of the rows before it, so one
   * round trip to the coordinator does both; a partition it does not cover gets this flush's plain commit in the
   * same request. If that request never lands, this flush stays announced and is replayed, stored once.
   */
  async function run(flushes: Flush[], inserts: Insert[], gen: number): Promise<void> {
    const prior = owed?.gen === gen ? owed.flushes : [];
    owed = undefined;
    if (!owns(gen) || gen === brokenGen) return;
    brokenGen = gen;
    const announce = inserts.flatMap((ins) =>
      ins.flushes.map((f) => ({
        topic,
        partition: f.partition,
        offset: f.first,
        metadata: JSON.stringify({
          v: 1,
          first: f.first,
          last: f.last,
          ...(ins.dedupToken === rangeToken(topic, f) ? {} : { token: ins.dedupToken }),
        } satisfies Announcement),
      })),
    );
    const announced = new Set(announce.map((a) => a.partition));
    // Kafka keeps the last of two offsets committed for one partition in one request: a second range of a partition
    // would pass over the first before it is stored. The batcher hands out one flush per partition (take); should
    // that ever break, this generation stops here, loudly, with nothing committed past its rows.
    if (announced.size < announce.length)
      throw new Error(
        `one take holds two ranges of a partition: ${announce.map((a) => a.metadata).join(' ')}`,
      );
    const priorDone = prior
      .filter((f) => !announced.has(f.partition))
      .map((f) => ({ ...f.commit, metadata: null }));
    if (!(await commit([...announce, ...priorDone], gen, 'announcement'))) {
      log.info('partitions moved before the insert; leaving the rows to the next owner', {
        rows: flushes.reduce((n, f) => n + f.rows, 0),
      });
      return;
    }
    if (prior.length > 0) committedFlushes(prior);
    for (const ins of inserts) if (!(await insert(ins, gen))) return;
    brokenGen = -1;
    if (pending > 1) {
      owed = { gen, flushes };
      return;
    }
    const done = flushes.map((f) => ({ ...f.commit, metadata: null }));
    if (!(await commit(done, gen, 'offset'))) {
      brokenGen = gen;
      return;
    }
    committedFlushes(flushes);
  }

  // The `storedSince` sets of the lookups taken ahead (see schedule), filled by every recordIds until their insert.
  const lookups = new Set<Set<string>>();

  // One flush runs at a time, in take() order, so each partition's ranges are announced and committed in
  // order. The next one may be taken while one runs: its new rows' ids are looked up at once, on the engine's
  // other threads while the running insert works, and every id the running flush records after that lookup
  // began is handed to it as stored (`storedSince`), so a copy in two consecutive flushes is still stored once.
  // See flushNext for when eachBatch waits.
  let running: Promise<void> = Promise.resolve();
  // The flush taken before the last one: when it settles, at most one is left.
  let ahead: Promise<void> = Promise.resolve();
  let pending = 0;
  let busy = false;
  function schedule(gen: number): Promise<void> {
    const flushes = batcher.take();
    metrics.buffered.set(batcher.rows);
    if (flushes.length === 0) return running;
    busy = true;
    pending += 1;
    const inserts = insertsOf(topic, flushes);
    for (const ins of inserts) {
      if (ins.replay) continue;
      // Registered before the lookup starts, so no id recorded in between is missed.
      ins.storedSince = new Set();
      lookups.add(ins.storedSince);
      ins.read = readIds(clickhouse, ins.body).catch(() => undefined);
    }
    const next = running
      .then(() => run(flushes, inserts, gen))
      .catch((err) => log.error('flush failed', { error: describeError(err) }));
    const mine = next.finally(() => {
      for (const ins of inserts) if (ins.storedSince) lookups.delete(ins.storedSince);
      pending -= 1;
      if (running === mine) busy = false;
    });
    ahead = running;
    running = mine;
    return mine;
  }

  /**
   * Starts the next flush; false when the group rejoined meanwhile. A full buffer is taken while a flush runs, so
   * that its ids are looked up meanwhile, and waits only when another is taken already. A buffer due by time
   * waits until no flush runs: flushes go by time where the inserts keep up, and there a lookup beside the running
   * insert would take CPU from the insert whose rows are waiting to become visible, for no gain in rate.
   */
  async function flushNext(gen: number, full: boolean): Promise<boolean> {
    if (full ? pending > 1 : busy) await (full ? ahead : running);
    if (gen !== generation) return false;
    void schedule(gen);
    return true;
  }

  async function handle(batch: ConsumedBatch, control: BatchControl, gen: number): Promise<void> {
    const { partition } = batch;
    highWatermarks.set(partition, BigInt(batch.highWatermark));
    const first = batch.messages[0];
    if (first && !started.has(partition)) {
      // The first batch since the join starts at the committed offset: replay what its owner announced there.
      if (announced?.gen !== gen) announced = { gen, offsets: consumer.committed() };
      const { offsets } = announced;
      const committed = await offsets.then(
        (all) => all.get(partition),
        (err: unknown) => {
          // Asked again by the next batch; kafkajs redelivers this one after the error.
          if (announced?.offsets === offsets) announced = undefined;
          throw err;
        },
      );
      if (gen !== generation) return;
      started.add(partition);
      const offset = committed && BigInt(committed.offset) >= 0n ? committed.offset : first.offset;
      committedOffsets.set(partition, BigInt(offset));
      const announcement = parseAnnouncement(committed?.metadata);
      if (announcement && announcement.first === first.offset) {
        log.info('replaying an announced flush', {
          partition,
          first: announcement.first,
          last: announcement.last,
        });
        batcher.replay(partition, announcement.last, announcement.token);
      } else if (announcement) {
        log.warn('announced range no longer starts the partition; reading on without it', {
          partition,
          announced: announcement.first,
          first: first.offset,
        });
      }
    }
    updateLag(partition);
    for (const message of batch.messages) {
      if (stopping || gen !== generation || !control.isRunning() || control.isStale()) return;
      batcher.add(partition, message.offset, message.value);
      // Resolving only moves the fetch position (autoCommit is off): the commit waits for the insert.
      control.resolveOffset(message.offset);
      if (batcher.isFull() && !(await flushNext(gen, true))) return;
    }
    metrics.buffered.set(batcher.rows);
    if (batcher.isDue()) await flushNext(gen, batcher.isFull());
  }

  /** Runs `handle`, heartbeating every second while it waits for a running flush. */
  async function onBatch(batch: ConsumedBatch, control: BatchControl): Promise<void> {
    const gen = generation;
    let settled = false;
    const task = handle(batch, control, gen).finally(() => {
      settled = true;
    });
    while (!settled) {
      await settledOrTimeout(task, 1_000);
      if (!settled) await control.heartbeat();
    }
    await task;
    await control.heartbeat();
  }

  // Flushes by time when no new batch arrives to do it. Unref'd: it never keeps the process alive.
  const timer = setInterval(
    () => {
      if (stopping || rebalancing || busy || !batcher.isDue()) return;
      void schedule(generation);
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
        await running;
        await schedule(generation);
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
