// A load generator that sends like the browser SDK (sdk/src/sender.ts `deliver`), so the chaos scenarios judge
// the pipeline by what real pages would get: N visitors, each with its own queue and one request at a time; the
// SDK's bodies (harness/batchBodies.ts: the Segment envelope with `sentAt` stamped per attempt, bodies under
// 64 000 bytes); and its retry rules: 408, 429, 5xx and network errors resend the same events (same messageId)
// after an exponential back-off from 1 s capped at 60 s with 50–100 % jitter, never before `Retry-After`; a 2xx
// settles the batch, its `rejected` events included; 400 and 413 drop the batch.
import { uuidv7 } from 'uuidv7';
import { batchBodies, batchEnvelope, type QueuedEvent } from '../harness/batchBodies.js';

/** Options of `startLoad`. */
export interface LoadOptions {
  /**
   * The gateway's base URL, e.g. `http://127.0.0.1:8787`; several go round robin request by request, as a
   * load balancer without health checks would send them (a resend after a failure goes to the next one).
   */
  url: string | string[];
  writeKey: string;
  /** Events per second over all visitors. */
  rate: number;
  /** Concurrent visitors: each sends its own events, one request at a time. */
  visitors: number;
  /**
   * The visitors' devices by anonymous id, and the host their pages are on (default `chaos.tidemark.test`), when
   * a scenario must tell them apart (people on two devices each); unset: `visitors` random ones.
   */
  devices?: { anonymousId: string; host?: string }[];
  /** A visitor sends once this many events wait (the SDK's `flushAt`). Default 20. */
  flushAt?: number;
  /**
   * …or this long after its oldest waiting event (the SDK's `flushInterval`, 5 s there). Default 1 s: recovery
   * after a fault is measured to the first 2xx, which a long interval would push back for no reason.
   */
  flushIntervalMs?: number;
  /** Put into every event's properties, so a run's events can be told apart. */
  run?: string;
  /** A request that has not been answered by then counts as a network error (and is retried). Default 30 s. */
  requestTimeoutMs?: number;
}

/** One answer (or network error, status 0) the load generator got. */
export interface Answer {
  at: number;
  status: number;
}

/** What a load run did, once stopped. */
export interface LoadSummary {
  /** Events created. */
  generated: number;
  /** Event ids answered with a 2xx and not listed as rejected, with the time of that answer. */
  acked: Map<string, number>;
  /** Events the gateway listed as rejected in a 2xx, or dropped with their batch on a 400/413: must be 0 here. */
  refused: number;
  /** Events still unacknowledged when the drain gave up. */
  unsent: number;
  /** Requests by answer: a status code, or `network` for no answer. */
  statuses: Record<string, number>;
  /** Requests that were resends of events already sent once. */
  resends: number;
  durationMs: number;
}

/** A running load. */
export interface Load {
  /** Ids acknowledged so far, with the time of their 2xx. */
  readonly acked: Map<string, number>;
  /** Every answer so far, in the order they came. */
  readonly answers: readonly Answer[];
  /** The time of the first 2xx at or after `at`, if one came. */
  firstAckAfter(at: number): number | undefined;
  /** Every event created, by id: the device (anonymous id) that sent it and its type. */
  readonly origins: ReadonlyMap<string, { anonymousId: string; type: 'page' | 'identify' }>;
  /**
   * The device logs in: it queues an `identify` of `userId`, and every event it creates from then on carries the
   * user id, as the SDK's events after `identify()` do. Answers the identify's messageId.
   */
  identify(anonymousId: string, userId: string): string;
  /**
   * The device sends again up to `max` of its events already acknowledged, the same JSON and messageId (an SDK
   * queue that never saw the 2xx, a page restored from the back-forward cache); answers how many it queued.
   */
  resend(anonymousId: string, max: number): number;
  /** Stops creating events, lets every visitor send what it holds (retrying as usual), and reports. */
  stop(drainTimeoutMs?: number): Promise<LoadSummary>;
}

// A desktop Chrome: the gateway flags (never drops) bots by user agent, and the overview query leaves flagged
// events out, so the load must look like a person.
const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

interface Visitor {
  anonymousId: string;
  host: string;
  /** Set once the device identified: its later events carry it. */
  userId?: string;
  /** Events acknowledged, as sent: what `resend` sends again. */
  settled: Map<string, string>;
  sessionId: string;
  /** Waiting events, oldest first, and when each was created. */
  pending: QueuedEvent[];
  createdAt: number[];
  /** Ids sent at least once: a request carrying one of them is a resend. */
  tried: Set<string>;
  failures: number;
  backoffUntil: number;
  retryAfterUntil: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts sending at once; `stop()` ends it. */
export function startLoad(options: LoadOptions): Load {
  const { writeKey, rate, flushAt = 20, flushIntervalMs = 1_000, requestTimeoutMs = 30_000 } = options;
  const endpoints = [options.url].flat().map((url) => `${url.replace(/\/+$/, '')}/v1/batch`);
  let requests = 0;
  const run = options.run ?? uuidv7().slice(-8);
  const started = Date.now();
  const acked = new Map<string, number>();
  const answers: Answer[] = [];
  const ackTimes: number[] = [];
  const statuses: Record<string, number> = {};
  let generated = 0;
  let refused = 0;
  let resends = 0;
  let creating = true;
  let draining = true;

  const devices: { anonymousId: string; host?: string }[] =
    options.devices ?? Array.from({ length: options.visitors }, () => ({ anonymousId: `chaos-${uuidv7()}` }));
  const origins = new Map<string, { anonymousId: string; type: 'page' | 'identify' }>();
  const visitors: Visitor[] = devices.map(({ anonymousId, host }) => ({
    anonymousId,
    host: host ?? 'chaos.tidemark.test',
    settled: new Map(),
    sessionId: uuidv7(),
    pending: [],
    createdAt: [],
    tried: new Set(),
    failures: 0,
    backoffUntil: 0,
    retryAfterUntil: 0,
  }));

  function create(visitor: Visitor) {
    const n = generated++;
    const path = `/chaos/${n % 50}`;
    const url = `https://${visitor.host}${path}`;
    const event = {
      type: 'page',
      name: 'Chaos',
      messageId: uuidv7(),
      timestamp: new Date().toISOString(),
      anonymousId: visitor.anonymousId,
      ...(visitor.userId === undefined ? {} : { userId: visitor.userId }),
      properties: { url, path, title: 'Chaos', run, n },
      context: {
        page: { url, path, title: 'Chaos', referrer: '', search: '' },
        userAgent: USER_AGENT,
        locale: 'en-US',
        library: { name: 'tidemark-chaos', version: '1' },
        sessionId: visitor.sessionId,
      },
    };
    queue(visitor, event.messageId, JSON.stringify(event), 'page');
  }

  function queue(visitor: Visitor, messageId: string, json: string, type: 'page' | 'identify') {
    origins.set(messageId, { anonymousId: visitor.anonymousId, type });
    visitor.pending.push([messageId, json]);
    visitor.createdAt.push(Date.now());
  }

  const device = (anonymousId: string): Visitor => {
    const visitor = visitors.find((v) => v.anonymousId === anonymousId);
    if (!visitor) throw new Error(`no device ${anonymousId} in this load`);
    return visitor;
  };

  // Events are created on a 100 ms tick, spread round-robin, so the rate holds whatever the answers do.
  let owed = 0;
  let next = 0;
  const ticker = setInterval(() => {
    if (!creating) return;
    owed += rate / 10;
    for (; owed >= 1; owed--) create(visitors[next++ % visitors.length] as Visitor);
  }, 100);

  /** Removes settled events from the visitor's queue. */
  function settle(visitor: Visitor, ids: string[]) {
    const done = new Set(ids);
    for (const [id, json] of visitor.pending) if (done.has(id)) visitor.settled.set(id, json);
    const keep = visitor.pending.map((entry, i) => [entry, visitor.createdAt[i] as number] as const);
    const left = keep.filter(([[id]]) => !done.has(id));
    visitor.pending = left.map(([entry]) => entry);
    visitor.createdAt = left.map(([, at]) => at);
    for (const id of ids) visitor.tried.delete(id);
  }

  /** One POST, settled as sdk/src/sender.ts `deliver` does; false when it must be retried later. */
  async function deliver(visitor: Visitor, ids: string[], jsons: string[]): Promise<boolean> {
    if (ids.some((id) => visitor.tried.has(id))) resends++;
    for (const id of ids) visitor.tried.add(id);
    let response: Response | undefined;
    let body = '';
    try {
      response = await fetch(endpoints[requests++ % endpoints.length] as string, {
        method: 'POST',
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        body: batchEnvelope(writeKey, jsons),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      body = await response.text();
    } catch {
      // No answer (refused, reset, timed out): retried like the SDK retries a failed fetch.
      response = undefined;
    }
    const status = response?.status ?? 0;
    const at = Date.now();
    answers.push({ at, status });
    const key = status === 0 ? 'network' : String(status);
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (!status || status === 408 || status === 429 || status > 499) {
      const retryAfterMs = Number(response?.headers.get('Retry-After')) * 1000 || 0;
      const delay = Math.max(
        retryAfterMs,
        Math.min(6e4, 1000 * 2 ** visitor.failures++) * (0.5 + Math.random() / 2),
      );
      visitor.backoffUntil = at + delay;
      visitor.retryAfterUntil = at + retryAfterMs;
      return false;
    }
    visitor.failures = 0;
    visitor.backoffUntil = 0;
    if (status >= 200 && status <= 299) {
      // `{accepted, rejected: [{index, messageId, reason}]}`: a rejected event is settled, not delivered.
      let rejected: { messageId?: string | null }[] = [];
      try {
        rejected = (JSON.parse(body) as { rejected?: typeof rejected }).rejected ?? [];
      } catch {
        // A 2xx without a readable body still settles the batch, as in the SDK.
      }
      const rejectedIds = new Set(rejected.map((r) => r.messageId));
      refused += rejected.length;
      for (const id of ids) if (!rejectedIds.has(id)) acked.set(id, at);
      ackTimes.push(at);
      settle(visitor, ids);
      return true;
    }
    if (status === 400 || status === 413) {
      refused += ids.length;
      settle(visitor, ids);
      return true;
    }
    // 401, 403, 404: a configuration problem. The SDK holds the events and stops sending from that page; here
    // the visitor waits as after a failure, so a misconfigured run shows as unsent events, not as a busy loop.
    visitor.backoffUntil = at + 5_000;
    return false;
  }

  async function visit(visitor: Visitor) {
    while (creating || (draining && visitor.pending.length > 0)) {
      const now = Date.now();
      const due =
        visitor.pending.length >= flushAt ||
        (visitor.pending.length > 0 && now - (visitor.createdAt[0] as number) >= flushIntervalMs) ||
        (!creating && visitor.pending.length > 0);
      const wait = Math.max(visitor.retryAfterUntil, visitor.backoffUntil) - now;
      if (!due || wait > 0) {
        await sleep(Math.min(50, Math.max(wait, 10)));
        continue;
      }
      // What is waiting now, in bodies as the SDK cuts them, one after another until one fails.
      for (const body of batchBodies([...visitor.pending], writeKey)) {
        if (!(await deliver(visitor, body.ids, body.jsons))) break;
      }
    }
  }
  const running = visitors.map(visit);

  return {
    acked,
    answers,
    origins,
    identify(anonymousId, userId) {
      const visitor = device(anonymousId);
      visitor.userId = userId;
      const messageId = uuidv7();
      const event = {
        type: 'identify',
        messageId,
        timestamp: new Date().toISOString(),
        anonymousId,
        userId,
        traits: { plan: 'chaos' },
        context: {
          userAgent: USER_AGENT,
          locale: 'en-US',
          library: { name: 'tidemark-chaos', version: '1' },
        },
      };
      generated++;
      queue(visitor, messageId, JSON.stringify(event), 'identify');
      return messageId;
    },
    resend(anonymousId, max) {
      const visitor = device(anonymousId);
      const waiting = new Set(visitor.pending.map(([id]) => id));
      const again = [...visitor.settled].filter(([id]) => !waiting.has(id)).slice(-max);
      for (const [id, json] of again) {
        visitor.pending.push([id, json]);
        visitor.createdAt.push(Date.now());
      }
      return again.length;
    },
    firstAckAfter(at) {
      // Answers arrive in time order; search from the end, where recent faults look.
      let found: number | undefined;
      for (let i = ackTimes.length - 1; i >= 0 && (ackTimes[i] as number) >= at; i--) found = ackTimes[i];
      return found;
    },
    async stop(drainTimeoutMs = 120_000) {
      creating = false;
      clearInterval(ticker);
      const timer = setTimeout(() => {
        draining = false;
      }, drainTimeoutMs);
      await Promise.all(running);
      clearTimeout(timer);
      return {
        generated,
        acked,
        refused,
        unsent: visitors.reduce((sum, v) => sum + v.pending.length, 0),
        statuses,
        resends,
        durationMs: Date.now() - started,
      };
    },
  };
}
