import type { EventStore } from './types.js';

/** Waiting to be sent. */
export const PENDING = 0;
/** Carried by a fetch whose answer has not come yet. */
export const INFLIGHT = 1;
/**
 * Handed to `sendBeacon`. Its fate is unknowable, so it stays stored (DESIGN §6.1: deleted only on a
 * 2xx) but is not sent again while this page lives hidden; the next page load or the page becoming
 * visible again sends it with fetch, and ClickHouse collapses the duplicate by `event_id`.
 */
export const BEACONED = 2;

/**
 * Refused by the gateway for a reason that is not the events' own (401, 403: see `Outcome` in retry.ts).
 * Kept stored for a later page load, not sent again by this one.
 */
export const HELD = 3;

export type EventState = typeof PENDING | typeof INFLIGHT | typeof BEACONED | typeof HELD;

/** `[messageId, json]`: an event as the queue hands it out. */
export type Entry = [id: string, json: string];

/** The events of one client: in memory for speed, mirrored to a store so a reload or crash loses none. */
export interface Queue {
  /** Resolves (never rejects) once the events earlier pages left in the store are in memory: their count. */
  ready: Promise<number>;
  /** Keeps an event in memory and writes it to the store. */
  add(id: string, json: string): void;
  /** The events in `state` (default: pending), oldest first (UUIDv7 ids sort by time). */
  list(state?: EventState): Entry[];
  /** Moves events to another state; ids that are gone are ignored. */
  mark(ids: string[], state: EventState): void;
  /** Forgets events for good, in memory and in the store. */
  remove(ids: string[]): void;
  /** Resolves when every store write issued so far has finished (tests wait on it). */
  idle(): Promise<unknown>;
}

/**
 * Creates the queue of the client with this write key. Store operations run one after another in the
 * order they were issued, so a delete can never overtake the write of the same event.
 */
export function createQueue(store: EventStore, writeKey: string, log: (...args: unknown[]) => void): Queue {
  const items = new Map<string, [json: string, state: EventState]>();

  const ready = store.entries().then(
    (records) => {
      let loaded = 0;
      for (const [id, record] of records) {
        // Events tracked on this page since the load began are already here: keep one copy.
        if (record.writeKey === writeKey && !items.has(id)) {
          items.set(id, [record.json, PENDING]);
          loaded++;
        }
      }
      if (loaded) log('loaded', loaded);
      return loaded;
    },
    (error) => {
      log('no store', error);
      return 0;
    },
  );
  let chain: Promise<unknown> = ready;
  const persist = (operation: () => Promise<void>) => {
    chain = chain.then(operation).catch(log);
  };

  return {
    ready,
    add(id, json) {
      items.set(id, [json, PENDING]);
      persist(() => store.set(id, { writeKey, json }));
    },
    list(state = PENDING) {
      const found: Entry[] = [];
      for (const [id, [json, s]] of items) if (s === state) found.push([id, json]);
      return found.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    },
    mark(ids, state) {
      for (const id of ids) {
        const item = items.get(id);
        if (item) item[1] = state;
      }
    },
    remove(ids) {
      for (const id of ids) items.delete(id);
      persist(() => store.delMany(ids));
    },
    idle: () => chain,
  };
}
