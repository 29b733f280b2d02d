// The end-to-end benchmark's load generator: SDK-shaped 20-event batches (POST /v1/batch, DESIGN §2) at a fixed
// rate, paced open-loop. Batch n is due at start + n × interval whatever happened to the batches before it, so a
// slow answer never lowers the offered rate; a batch that leaves late (the generator itself fell behind) is
// counted, and its freshness is measured from when it was due, so the delay is not hidden either.
import { Agent, request } from 'node:http';
import { uuidv7 } from 'uuidv7';

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

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const products = ['kayak', 'paddle', 'dry-bag', 'life-vest', 'spray-skirt', 'roof-rack'];

/**
 * One visitor's batch as the SDK sends it (the same shop pages as bench/gateway.ts), every event tagged with the
 * batch's session id so the poller can tell when this batch became visible.
 */
export function batchBody(
  writeKey: string,
  session: string,
  n: number,
  size: number,
  sentAt: number,
): string {
  const anonymousId = uuidv7();
  const batch = Array.from({ length: size }, (_, i) => {
    const product = products[(n + i) % products.length] ?? 'kayak';
    const page = i % 5 === 0;
    const path = page && i === 0 ? '/' : `/products/${product}`;
    const search = i === 0 ? `?utm_source=newsletter&utm_medium=email&utm_campaign=spring-${n % 7}` : '';
    const event = page
      ? { type: 'page', name: product, properties: { path, search } }
      : {
          type: 'track',
          event: ['Product Viewed', 'Product Added', 'Checkout Started'][i % 3],
          properties: {
            product_id: `${product}-${n % 40}`,
            price: 19 + ((n * 31 + i * 7) % 900),
            currency: 'EUR',
          },
        };
    return {
      ...event,
      messageId: uuidv7(),
      anonymousId,
      timestamp: new Date(sentAt - (size - i) * 1500).toISOString(),
      context: {
        page: {
          url: `https://shop.example${path}${search}`,
          path,
          referrer: i === 0 ? 'https://www.google.com/' : 'https://shop.example/',
          title: `${product[0]?.toUpperCase()}${product.slice(1)} | Shop Example`,
          search,
        },
        userAgent: CHROME,
        locale: 'de-DE',
        timezone: 'Europe/Berlin',
        screen: { width: 1920, height: 1080 },
        library: { name: '@tidemark/sdk', version: '0.1.0' },
        sessionId: session,
      },
    };
  });
  return JSON.stringify({ writeKey, sentAt: new Date(sentAt).toISOString(), batch });
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
      const body = batchBody(opts.writeKey, `${opts.tag}-${batch.n}`, batch.n, eventsPerBatch, now);
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
