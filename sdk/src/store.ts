import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import type { EventStore, StoredEvent } from './types.js';

/**
 * The IndexedDB store (database `tidemark`, object store `queue`, key = `messageId`). It opens the database on
 * first use, not at creation, so creating it has no side effect; where IndexedDB is missing or broken (old
 * private modes, sandboxed frames, SSR) every call rejects and the queue keeps working from memory.
 *
 * Only idb-keyval's `createStore` and `promisifyRequest`: its `set`/`delMany`/`entries` would also pull its
 * default store and a cursor fallback for browsers without `getAll` into the script-tag build.
 */
export function createIdbStore(database = 'tidemark', storeName = 'queue'): EventStore {
  let store: UseStore | undefined;
  // `async` turns the ReferenceError of a missing `indexedDB` into a rejection the queue handles.
  const use = async <T>(mode: IDBTransactionMode, work: (queue: IDBObjectStore) => PromiseLike<T>) => {
    store ??= createStore(database, storeName);
    return store(mode, work);
  };
  // Writes resolve when their transaction committed, not when the request succeeded.
  const committed = (queue: IDBObjectStore) => promisifyRequest(queue.transaction);
  return {
    set: (key, value) =>
      use('readwrite', (queue) => {
        queue.put(value, key);
        return committed(queue);
      }),
    delMany: (keys) =>
      use('readwrite', (queue) => {
        for (const key of keys) queue.delete(key);
        return committed(queue);
      }),
    entries: () =>
      use('readonly', async (queue) => {
        const [keys, values] = await Promise.all([
          promisifyRequest(queue.getAllKeys()),
          promisifyRequest(queue.getAll() as IDBRequest<StoredEvent[]>),
        ]);
        return keys.map((key, i): [string, StoredEvent] => [String(key), values[i] as StoredEvent]);
      }),
  };
}

/** A store that lives as long as the object: for tests, SSR, or when persistence is unwanted. */
export function createMemoryStore(): EventStore {
  const records = new Map<string, StoredEvent>();
  return {
    set: async (key, value) => {
      records.set(key, value);
    },
    delMany: async (keys) => {
      for (const key of keys) records.delete(key);
    },
    entries: async () => [...records],
  };
}
