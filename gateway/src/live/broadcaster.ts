import type { EventRow } from '@tidemark/store';

/**
 * One accepted event as the live feed shows it: enough to recognise it, and the id that opens its person's timeline
 * (the dashboard's person view, queries/person_events.sql). The feed is behind the admin token, which reads every
 * event anyway; IP-derived data beyond the country and the event's properties stay out.
 */
export interface LiveEvent {
  /** When the gateway received it, ISO 8601 (the gateway's clock, so the feed's order is the arrival order). */
  at: string;
  project: string;
  /** Segment call type: `track`, `page`, … */
  type: string;
  /** Track event name, or the SDK's `$pageview`, `$web_vital`, … */
  event: string;
  host: string;
  path: string;
  /** ISO country code, `''` when unknown. */
  country: string;
  /** `desktop`, `mobile`, `tablet`, … `''` when unknown. */
  device: string;
  browser: string;
  /** The user id when the event carries one, else its anonymous id: what person_events.sql takes as `person`. */
  person: string;
}

/** The fields of a stored row the feed shows; IP-derived data beyond the country, and properties, stay out. */
export function toLiveEvent(row: EventRow): LiveEvent {
  return {
    at: row.received_at.replace(' ', 'T').replace(/Z?$/, 'Z'),
    project: row.project_id,
    type: row.type,
    event: row.event,
    host: row.host,
    path: row.path,
    country: row.country,
    device: row.device_type,
    browser: row.browser,
    person: row.user_id || row.anonymous_id,
  };
}

/** Why a subscription ended. */
export type LiveEndReason = 'unsubscribed' | 'overflow' | 'shutdown';

/** One watcher of the feed. */
export interface LiveSubscription {
  /**
   * The events published since the last call, waiting up to `idleMs` for the first; `[]` when none came in that
   * time (the caller's cue for a keep-alive), `null` once the subscription ended.
   */
  next(idleMs: number): Promise<LiveEvent[] | null>;
  /** Set once the subscription ended. */
  readonly ended: LiveEndReason | undefined;
  /** Ends it; idempotent. */
  close(): void;
}

export interface LiveBroadcaster {
  /**
   * Hands accepted events to every subscriber whose project matches. Never waits: a subscriber whose queue
   * would pass its bound is ended with `overflow` instead.
   */
  publish(events: readonly LiveEvent[]): void;
  /** `project`: only that project's events; every project's when left out. */
  subscribe(opts?: { project?: string | undefined }): LiveSubscription;
  /** How many subscriptions are open: with none, the ingest path skips building summaries. */
  readonly size: number;
  /** Ends every subscription with `shutdown` (the gateway is closing). */
  close(): void;
}

export interface BroadcasterOptions {
  /**
   * Events a subscriber may have waiting. A reader that falls this far behind (a stalled tab, a slow link) is
   * dropped, so ingestion never waits for it and its queue never grows without bound; the browser reconnects.
   */
  maxQueued?: number;
}

/**
 * The live feed's fan-out inside one gateway process: ingest publishes what it accepted, each `GET /v1/live`
 * holds a subscription. Nothing is kept for later: a subscriber sees what is accepted while it listens.
 */
export function createBroadcaster(opts: BroadcasterOptions = {}): LiveBroadcaster {
  const maxQueued = opts.maxQueued ?? 1000;
  const subscribers = new Set<Subscriber>();

  interface Subscriber {
    project: string | undefined;
    queue: LiveEvent[];
    ended: LiveEndReason | undefined;
    /** The pending `next()` call's resolver, woken by a publish or the end. */
    wake: (() => void) | undefined;
  }

  const end = (s: Subscriber, reason: LiveEndReason) => {
    if (s.ended !== undefined) return;
    s.ended = reason;
    s.queue = [];
    subscribers.delete(s);
    s.wake?.();
  };

  return {
    get size() {
      return subscribers.size;
    },
    publish(events) {
      for (const s of subscribers) {
        const mine = s.project === undefined ? events : events.filter((e) => e.project === s.project);
        if (mine.length === 0) continue;
        if (s.queue.length + mine.length > maxQueued) {
          end(s, 'overflow');
          continue;
        }
        s.queue.push(...mine);
        s.wake?.();
      }
    },
    subscribe(options = {}) {
      const s: Subscriber = { project: options.project, queue: [], ended: undefined, wake: undefined };
      subscribers.add(s);
      return {
        get ended() {
          return s.ended;
        },
        close: () => end(s, 'unsubscribed'),
        async next(idleMs) {
          if (s.queue.length === 0 && s.ended === undefined) {
            await new Promise<void>((resolve) => {
              // Unref'd: a feed nobody reads must not keep the process alive (STYLE, Avoid).
              const timer = setTimeout(done, idleMs);
              timer.unref();
              function done() {
                clearTimeout(timer);
                s.wake = undefined;
                resolve();
              }
              s.wake = done;
            });
          }
          if (s.ended !== undefined) return null;
          const taken = s.queue;
          s.queue = [];
          return taken;
        },
      };
    },
    close() {
      for (const s of subscribers) end(s, 'shutdown');
    },
  };
}
