import { PART } from './store.js';
import type { EventStore, StoredEvent } from './types.js';
import { idTime } from './uuid.js';

/** `[messageId, json]`: an event as the queue hands it out. */
export type Entry = [id: string, json: string];

/**
 * For how long no tab sends an event again after a page handed it to `sendBeacon`. The browser never says
 * whether a beacon arrived; it usually has within a second. Past this, the event goes again by fetch, and a
 * duplicate collapses by `messageId` in ClickHouse.
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
  /**
   * Stores events (one write, in the order of the calls); with `hiding` (the page is being hidden, maybe for
   * good), the write starts at once, before the operations under way.
   */
  save(entries: Entry[], hiding?: boolean): Promise<void>;
  /**
   * The stored events of this write key, oldest first, without those beaconed less than BEACON_GRACE ago
   * (unless `all`), after deleting the oldest beyond the limits; and how many were deleted.
   */
  take(all?: boolean): Promise<[Entry[], dropped: number]>;
  /** Deletes events for good (the gateway answered for them). */
  remove(ids: string[]): Promise<void>;
  /** Notes that these events were handed to `sendBeacon` now (as the page hides: at once, like `save`). */
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
 * one after another in the order they were issued (a save as the page hides starts at once; what follows waits
 * for it): a
 * delete never overtakes the write of the same event, and a `take()` sees every event added before it.
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
  /** Saves made as the page hid, numbered, and the number of each event they wrote (see `save`). */
  let urgent = 0;
  const urgentIds = new Map<string, number>();

  const serial = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = chain.then(operation);
    chain = result.catch(log);
    return result;
  };
  /** A write started outside the order: every operation issued later waits for it. */
  const atOnce = (written: Promise<void>): Promise<void> => {
    chain = Promise.all([chain, written]).catch(log);
    return written;
  };
  const used = () => stores.slice(0, current + 1);
  /** Writes to the current store; one that rejects is left for the next, for the rest of the page. */
  const put = async (entries: Entry[], beaconed?: number): Promise<void> => {
    const index = current;
    try {
      // A store that fails part way is left, and every part goes to the next one: the earlier parts are then
      // in two stores, which reads merge and deletes cover.
      await inParts(entries, (part) =>
        (stores[index] as EventStore).setMany(
          part.map(([id, json]): [string, StoredEvent] => [id, { writeKey, json, beaconed }]),
        ),
      );
    } catch (error) {
      log('store', error);
      // The last store stays the one to write to: a passing failure of it must not end storing for good.
      if (index + 1 >= stores.length) throw error;
      // Two writes may fail on the same store at once (see `save`): both move on to the same next one.
      current = Math.max(current, index + 1);
      return put(entries, beaconed);
    }
  };
  const drop = (ids: string[]) => {
    for (const id of ids) {
      own.delete(id);
      urgentIds.delete(id);
    }
    // A failed delete fails the caller: a sender that went on would send the same events again and again.
    return inParts(ids, (part) => Promise.all(used().map((store) => store.delMany(part))));
  };

  return {
    save(entries, hiding) {
      for (const [id, json] of entries) own.set(id, json);
      if (!hiding) return serial(() => put(entries));
      // As the page hides, written at once rather than behind the operations under way: the page may be gone
      // before a `take()` waiting on the store returns, and the events with it (chaos/scenarios/browser-offline.ts
      // lost 7 of 20 events tracked right before a tab closed so). New ids cannot be in a delete or a read under
      // way, and every operation issued later waits for this write; a `take()` issued earlier leaves them out, as
      // it would have before (their beacon's marks come after it).
      urgent++;
      for (const [id] of entries) urgentIds.set(id, urgent);
      return atOnce(put(entries));
    },
    take(all) {
      // The events added before this call: written before the take runs, so one missing was delivered.
      const known = [...own.keys()];
      const urgentBefore = urgent;
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
        if (first) {
          log('dropped', first);
          await drop(sorted.slice(0, first).map(([id]) => id));
        }
        const due: Entry[] = [];
        later = 0;
        for (const [id, record] of sorted.slice(first)) {
          if ((urgentIds.get(id) ?? 0) > urgentBefore) continue;
          const wait = (record.beaconed ?? 0) + BEACON_GRACE - now;
          if (all || !(wait > 0)) due.push([id, record.json]);
          else if (!later || wait < later) later = wait;
        }
        return [due, first];
      });
    },
    remove: (ids) => serial(() => drop(ids)),
    // At once too, right after the save of the same task: another tab reading between the two would find the
    // events unmarked and send them by fetch while the beacon carries them.
    markBeaconed: (entries) => atOnce(put(entries, Date.now())),
    later: () => later,
    mineCount: () => own.size,
    mine: () => [...own].sort(byId),
  };
}
