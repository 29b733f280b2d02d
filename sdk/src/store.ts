import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import type { EventStore, StoredEvent } from './types.js';

/**
 * Events per IndexedDB request: a page of a read here, a write or a delete in the queue. Chromium spends some
 * 15–40 µs of the page's main thread on each put or delete, in the task that issues them, and decodes a read's
 * records in the task that delivers them: in parts, a backlog of thousands is read, written or trimmed in many
 * short tasks instead of one long one (bench/sdk-track.ts).
 */
export const PART = 200;

/**
 * The IndexedDB store (database `tidemark`, object store `queue`, key = `messageId`). It opens the database on
 * first use, not at creation, so creating it has no side effect; where IndexedDB is missing or broken (Firefox
 * private mode before 115, sandboxed frames, SSR, a full quota) its calls reject and the queue moves on.
 *
 * Only idb-keyval's `createStore` and `promisifyRequest`: its `setMany`/`delMany`/`entries` would also pull its
 * default store and a cursor fallback for browsers without `getAll` into the script-tag build.
 */
export function createIdbStore(database = 'tidemark', storeName = 'queue'): EventStore {
  let store: UseStore | undefined;
  // `async` turns the ReferenceError of a missing `indexedDB` into a rejection.
  const use = async <T>(mode: IDBTransactionMode, work: (queue: IDBObjectStore) => PromiseLike<T>) => {
    store ??= createStore(database, storeName);
    return store(mode, work);
  };
  // Writes resolve when their transaction committed, not when a request succeeded: one transaction per call.
  const write = (each: (queue: IDBObjectStore, item: never) => unknown) => (items: unknown[]) =>
    use('readwrite', (queue) => {
      for (const item of items) each(queue, item as never);
      const done = promisifyRequest(queue.transaction);
      // Commit now rather than once every request's result came back to the page: a page closed in between
      // (events tracked just before the tab closed, written from `pagehide`) loses an uncommitted transaction,
      // and with it the events its beacon was carrying (chaos/scenarios/browser-offline.ts found 28 of 168).
      // `commit()` is Chrome 76+, Firefox 74+, Safari 15; older browsers auto-commit as before.
      queue.transaction.commit?.();
      return done;
    });
  return {
    setMany: write((queue, [key, value]: [string, StoredEvent]) => queue.put(value, key)),
    delMany: write((queue, key: string) => queue.delete(key)),
    entries: () =>
      use('readonly', async (queue) => {
        const keys = (await promisifyRequest(queue.getAllKeys())) as string[];
        // The values in pages, each its own request: Chromium decodes a request's records in the task that
        // delivers it, so a large backlog is read in short tasks rather than one long one.
        const pages: Promise<StoredEvent[]>[] = [];
        for (let i = 0; i < keys.length; i += PART) {
          const range = IDBKeyRange.bound(keys[i], keys[Math.min(i + PART, keys.length) - 1]);
          pages.push(promisifyRequest(queue.getAll(range)));
        }
        const values = (await Promise.all(pages)).flat();
        return keys.map((key, i): [string, StoredEvent] => [key, values[i] as StoredEvent]);
      }),
  };
}

/**
 * The `localStorage` store, for where IndexedDB fails: one item per event, `tidemark.q.<messageId>`. Shared by
 * the tabs of the origin like IndexedDB; small (about 5 MB per origin) and synchronous, hence second choice.
 * Any object works as `target` (the memory store is one); `localStorage` is read on first use, so that where
 * touching it throws (sandboxed frames, blocked storage) the calls reject instead.
 */
export function createLocalStore(target?: Record<string, string>, prefix = 'tidemark.q.'): EventStore {
  // `async`: what throws (a missing `localStorage`, Safari's old private mode, a full quota) rejects.
  const records = () => (target ??= localStorage as unknown as Record<string, string>);
  return {
    async setMany(entries) {
      for (const [key, value] of entries) records()[prefix + key] = JSON.stringify(value);
    },
    async delMany(keys) {
      for (const key of keys) delete records()[prefix + key];
    },
    async entries() {
      return Object.keys(records())
        .filter((key) => key.startsWith(prefix))
        .map((key) => [key.slice(prefix.length), JSON.parse(records()[key] as string)]);
    },
  };
}

/** A store that lives as long as the object: the last resort, and for tests and SSR. */
export const createMemoryStore = (): EventStore => createLocalStore({});
