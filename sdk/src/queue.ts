import { PART } from './store.js';
import type { EventStore, StoredEvent } from './types.js';
import { idTime } from './uuid.js';

/** `[messageId, json]`: an event as the queue hands it out. */
export type Entry = [id: string, json: string];

/**
 * For how long no tab sends an event again after a page handed it to `sendBeacon`. The browser never says
 * whether a beacon arrived; it usually has within a second. Past this, the event goes again by fetch, and a
 * duplicate collapses by `messageId` in ClickHouse (DESIGN §6.1).
 */
export const BEACON_GRACE = 10_000;

/** How much the stored queue may hold while the gateway cannot be reached. */
export interface QueueLimits {
  maxEvents: number;
  /** Characters of event JSON (UTF-16 code units: close to bytes for the ASCII most events are). */
  maxBytes: number;
  /** Milliseconds since the event was tracked (read from its UUIDv7). */
  maxAge: number;
}

/** The stored events of one write key, shared by every tab of the origin. */
export interface Queue {
  /** Stores events (one write, in the order of the calls). */
  save(entries: Entry[]): Promise<void>;
  /**
   * The stored events of this write key, oldest first, without those beaconed less than BEACON_GRACE ago
   * (unless `all`), after deleting the oldest beyond the limits; and how many were deleted.
   */
  take(all?: boolean): Promise<[Entry[], dropped: number]>;
  /** Deletes events for good (the gateway answered for them). */
  remove(ids: string[]): Promise<void>;
  /** Notes that these events were handed to `sendBeacon` now. */
  markBeaconed(entries: Entry[]): Promise<void>;
  /** Milliseconds until the first event the last `take()` skipped as recently beaconed is due; 0 if none. */
  later(): number;
  /** The events this page added that no `take()` has found gone yet, oldest first: what a beacon carries. */
  mine(): Entry[];
  /** How many events `mine()` would list. */
  mineCount(): number;
}

/** Runs `each` over `items` in parts of PART, one after the other. */
async function inParts<T>(items: T[], each: (part: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += PART) await each(items.slice(i, i + PART));
}

/** Oldest first: UUIDv7 ids sort by the time they were minted. */
const byId = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : 1);

/**
 * The queue over `stores`, tried in order: a store that rejects a write is given up for the rest of the page
 * (IndexedDB → localStorage → memory) and the write goes to the next one. Reads and deletes cover every store
 * used so far, so what an earlier store kept (IndexedDB before its quota ran out) is still sent. Operations run
 * one after another in the order they were issued: a delete never overtakes the write of the same event, and a
 * `take()` sees every event added before it.
 */
export function createQueue(
  stores: EventStore[],
  writeKey: string,
  limits: QueueLimits,
  log: (...args: unknown[]) => void,
): Queue {
  let current = 0;
  let chain: Promise<unknown> = Promise.resolve();
  const own = new Map<string, string>();
  let later = 0;

  const serial = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = chain.then(operation);
    chain = result.catch(log);
    return result;
  };
  const used = () => stores.slice(0, current + 1);
  const write = (entries: Entry[], beaconed?: number) =>
    serial(async function attempt(): Promise<void> {
      try {
        // A store that fails part way is left, and every part goes to the next one: the earlier parts are then
        // in two stores, which reads merge and deletes cover.
        await inParts(entries, (part) =>
          (stores[current] as EventStore).setMany(
            part.map(([id, json]): [string, StoredEvent] => [id, { writeKey, json, beaconed }]),
          ),
        );
      } catch (error) {
        log('store', error);
        // The last store stays the one to write to: a passing failure of it must not end storing for good.
        if (current + 1 >= stores.length) throw error;
        current++;
        return attempt();
      }
    });
  const drop = (ids: string[]) => {
    for (const id of ids) own.delete(id);
    // A failed delete fails the caller: a sender that went on would send the same events again and again.
    return inParts(ids, (part) => Promise.all(used().map((store) => store.delMany(part))));
  };

  return {
    save(entries) {
      for (const [id, json] of entries) own.set(id, json);
      return write(entries);
    },
    take(all) {
      // The events added before this call: written before the take runs, so one missing was delivered.
      const known = [...own.keys()];
      return serial(async () => {
        const now = Date.now();
        const found = new Map<string, StoredEvent>();
        for (const store of used()) {
          for (const [id, record] of await store.entries().catch(() => [])) {
            if (record.writeKey === writeKey) found.set(id, record);
          }
        }
        // Written before this take began, gone now: another tab delivered it.
        for (const id of known) if (!found.has(id)) own.delete(id);
        const sorted = [...found].sort(byId);
        let bytes = 0;
        for (const [, record] of sorted) bytes += record.json.length;
        let first = 0;
        for (const [id, { json }] of sorted) {
          if (
            sorted.length - first <= limits.maxEvents &&
            bytes <= limits.maxBytes &&
            now - idTime(id) <= limits.maxAge
          )
            break;
          bytes -= json.length;
          first++;
        }
        const expired = sorted.slice(0, first).map(([id]) => id);
        if (first) {
          log('dropped', first);
          await drop(expired);
        }
        const due: Entry[] = [];
        later = 0;
        for (const [id, record] of sorted.slice(first)) {
          const wait = (record.beaconed ?? 0) + BEACON_GRACE - now;
          if (all || !(wait > 0)) due.push([id, record.json]);
          else if (!later || wait < later) later = wait;
        }
        return [due, first];
      });
    },
    remove: (ids) => serial(() => drop(ids)).then(() => {}),
    markBeaconed: (entries) => write(entries, Date.now()),
    later: () => later,
    mineCount: () => own.size,
    mine: () => [...own].sort(byId),
  };
}
