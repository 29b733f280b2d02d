import { backoff, retriable } from './backoff.js';
import { type Chunk, chunks } from './batch.js';
import { createFlushScheduler, type FlushScheduler } from './flushScheduler.js';
import type { Queue } from './queue.js';
import type { TabLock } from './tabLock.js';
import type { Transport } from './transport.js';

/** What leaves the store, and how it is settled. */
export interface Sender extends FlushScheduler {
  /** The page is being hidden, maybe for good: this page's unsent events go by beacon now. */
  beacon(): void;
}

/**
 * Sends `writeKey`'s stored events from `queue` through `transport`, one tab at a time (`lock`), retrying as
 * backoff.ts says. Nothing is sent while `paused()` (offline: a request can only fail; opted out).
 */
export function createSender(
  queue: Queue,
  writeKey: string,
  transport: Transport,
  lock: TabLock,
  paused: () => boolean,
  log: (...args: unknown[]) => void,
): Sender {
  /** Failed attempts in a row: the exponent of the back-off. */
  let failures = 0;
  /** Automatic sends wait until then after a failure; `flush()` does not. */
  let backoffUntil = 0;
  /** The gateway's `Retry-After`: not even `flush()` sends earlier. */
  let retryAfterUntil = 0;
  /** A 401/403/404: the configuration is wrong, and this page sends nothing more (see `deliver`). Unset until an answer. */
  let held: boolean | undefined;
  /** Events deleted unsent because the stored queue was over a limit, reported with the next batch. */
  let dropped = 0;
  /**
   * Events in a request under way, and events this page handed to `sendBeacon`: no beacon carries them (again).
   * A request that failed frees its events, which a beacon then takes.
   */
  const out = new Set<string>();
  /**
   * Sends the stored events under the tab lock, one body after another, until none is left or a request failed.
   * Each read of the store is sent whole before the next read, which finds what was stored meanwhile.
   */
  const drain = (force: boolean) =>
    lock(async () => {
      for (;;) {
        const [entries, over] = await queue.take();
        dropped += over;
        // Nothing due; events a page beaconed become due once their grace is over, and no track may come to
        // trigger a send then.
        if (!entries.length) {
          if (queue.later()) schedule(queue.later());
          return;
        }
        for (const chunk of chunks(entries, writeKey, dropped)) {
          // Offline, a request can only fail; the `online` event resumes.
          if (held || paused()) return;
          const wait = Math.max(retryAfterUntil, force ? 0 : backoffUntil) - Date.now();
          if (wait > 0) return schedule(wait);
          if (!(await deliver(chunk))) return;
        }
      }
    });
  const { send, schedule } = createFlushScheduler(drain, log);

  /**
   * POSTs one body and settles its events; `false` when it must be retried later. What the status means:
   * - 2xx: delivered; the events the answer lists as rejected were invalid and are dropped with the rest.
   * - 408, 429, 5xx, or no answer at all: the same events again, after a back-off (see backoff.ts).
   * - 400 (no event of the body usable) and 413 (an event over the gateway's limit): the gateway judged them
   *   invalid; the same bytes cannot succeed, and keeping them would block every event behind them. Dropped.
   * - Any other status (401 unknown write key, 403 origin not allowed, 404 wrong host): a configuration
   *   problem, not the events' fault. They stay stored, this page sends nothing more, a later page load does.
   */
  async function deliver(chunk: Chunk): Promise<boolean> {
    for (const id of chunk.ids) out.add(id);
    const reported = dropped;
    const [status, retryAfterMs] = await transport.post(chunk, reported);
    for (const id of chunk.ids) out.delete(id);
    if (retriable(status)) {
      const delay = backoff(failures++, retryAfterMs);
      backoffUntil = Date.now() + delay;
      retryAfterUntil = Date.now() + retryAfterMs;
      schedule(delay);
      return false;
    }
    failures = backoffUntil = 0;
    held = status > 299 && status !== 400 && status !== 413;
    if (held) return false;
    dropped -= reported;
    await queue.remove(chunk.ids);
    return true;
  }

  /**
   * The browser sends a beacon after the page is gone but never says whether it arrived, so the events stay
   * stored, marked (see BEACON_GRACE). Events other tabs or earlier pages stored wait for the next send of any
   * tab: a beacon cannot wait for the lock.
   */
  function beacon() {
    if (held || paused()) return;
    const unsent = queue.mine().filter(([id]) => !out.has(id));
    const sent = unsent.slice(0, transport.beacon(unsent));
    for (const [id] of sent) out.add(id);
    // The marks first: queue operations run in order, so the send below does not carry what went by beacon.
    void queue.markBeaconed(sent);
    // No sendBeacon, or the browser refused a body (its quota is full): fetch keepalive may still get through,
    // and if the page lives on, its answer settles the events like any other.
    if (sent.length < unsent.length) void send(true);
  }

  return { send, schedule, beacon };
}
