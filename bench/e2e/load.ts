// The end-to-end benchmark's load generator: SDK-shaped 20-event batches (POST /v1/batch, DESIGN §2) at a fixed
// rate, paced open-loop. Batch n is due at start + n × interval whatever happened to the batches before it, so a
// slow answer never lowers the offered rate; a batch that leaves late (the generator itself fell behind) is
// counted, and its freshness is measured from when it was due, so the delay is not hidden either.
import { Agent, request } from 'node:http';
import { batchBody, CHROME } from '../batch.js';

/** One batch the generator offered. */
export interface SentBatch {
  /** Its number in the run, 0-based; its events carry `context.sessionId = <tag>-<n>`. */
  n: number;
  /** When it was due, epoch ms: the send time freshness is measured from. */
  dueAt: number;
  /** HTTP status, 0 for a network error or timeout, undefined while unanswered. */
  status?: number;
  /** When the answer arrived, epoch ms. */
  answeredAt?: number;
}

/** What a run offered and how the gateway answered. */
export interface LoadResult {
  batches: SentBatch[];
  eventsPerBatch: number;
  /** Batches that left more than `lateMs` after they were due. */
  late: number;
  lateMs: number;
  /** Answers that took longer than `slowMs`. */
  slow: number;
  slowMs: number;
  /** Answers by status (`0`: network error or timeout). */
  statuses: Map<number, number>;
  /** Seconds from the first due time to the last answer. */
  seconds: number;
}

/**
 * Offers `rate` events per second for `seconds` to `url`/v1/batch and resolves when every batch was answered.
 * `onSent` sees each batch as it leaves, so the poller can start looking for it at once.
 */
export async function runLoad(opts: {
  url: string;
  writeKey: string;
  /** Prefix of every batch's session id; unique per run. */
  tag: string;
  rate: number;
  seconds: number;
  eventsPerBatch?: number;
  onSent?: (batch: SentBatch) => void;
  /** Called once the last batch left, before waiting for the last answers: the end of the send window. */
  onAllSent?: () => void;
}): Promise<LoadResult> {
  const eventsPerBatch = opts.eventsPerBatch ?? 20;
  const intervalMs = (1000 * eventsPerBatch) / opts.rate;
  const total = Math.max(1, Math.round((opts.rate * opts.seconds) / eventsPerBatch));
  const lateMs = 100;
  const slowMs = 1000;
  const target = new URL('/v1/batch', opts.url);
  // Enough sockets that a few slow answers do not queue the next batches behind them; past this many in flight
  // the agent queues, and the wait shows up as freshness (measured from the due time), not as a lower rate.
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const result: LoadResult = {
    batches: [],
    eventsPerBatch,
    late: 0,
    lateMs,
    slow: 0,
    slowMs,
    statuses: new Map(),
    seconds: 0,
  };
  const answers: Promise<void>[] = [];
  const start = Date.now();
  let next = 0;

  const send = (batch: SentBatch, now: number): Promise<void> =>
    new Promise((resolve) => {
      const body = batchBody(opts.writeKey, batch.n, eventsPerBatch, {
        sentAt: now,
        session: `${opts.tag}-${batch.n}`,
      });
      const done = (status: number) => {
        if (batch.status !== undefined) return;
        batch.status = status;
        batch.answeredAt = Date.now();
        result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1);
        if (Date.now() - now > slowMs) result.slow += 1;
        resolve();
      };
      const req = request(
        target,
        {
          method: 'POST',
          agent,
          timeout: 30_000,
          headers: {
            'content-type': 'text/plain',
            'content-length': Buffer.byteLength(body),
            'user-agent': CHROME,
            origin: 'https://shop.example',
          },
        },
        (res) => {
          res.resume();
          res.once('end', () => done(res.statusCode ?? 0));
          res.once('error', () => done(0));
        },
      );
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.once('error', () => done(0));
      req.end(body);
    });

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = Date.now();
      while (next < total && start + next * intervalMs <= now) {
        const batch: SentBatch = { n: next, dueAt: start + next * intervalMs };
        if (now - batch.dueAt > lateMs) result.late += 1;
        result.batches.push(batch);
        answers.push(send(batch, now));
        opts.onSent?.(batch);
        next += 1;
      }
      if (next >= total) {
        resolve();
        return;
      }
      // Wake for the next due batch; timers are coarse, so a tick sends every batch that fell due meanwhile.
      setTimeout(tick, Math.max(1, Math.min(20, start + next * intervalMs - Date.now())));
    };
    tick();
  });
  opts.onAllSent?.();
  await Promise.all(answers);
  result.seconds = (Date.now() - start) / 1000;
  agent.destroy();
  return result;
}

/** Events of the batches the gateway answered 2xx. */
export function acceptedEvents(load: LoadResult): number {
  return load.batches.filter((b) => isOk(b.status)).length * load.eventsPerBatch;
}

export const isOk = (status: number | undefined) => status !== undefined && status >= 200 && status < 300;
