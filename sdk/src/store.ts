import { createStore, delMany, entries, set, type UseStore } from 'idb-keyval';
import type { EventStore, StoredEvent } from './types.js';

/**
 * The IndexedDB store (database `tidemark`, object store `queue`). It opens the database on first use,
 * not at creation, so creating it has no side effect; where IndexedDB is missing or broken (old private
 * modes, sandboxed frames, SSR) every call rejects and the queue keeps working from memory.
 */
export function createIdbStore(database = 'tidemark', storeName = 'queue'): EventStore {
  let store: UseStore | undefined;
  // `async` turns the ReferenceError of a missing `indexedDB` into a rejection the queue handles.
  const use = async () => (store ??= createStore(database, storeName));
  return {
    set: async (key, value) => set(key, value, await use()),
    delMany: async (keys) => delMany(keys, await use()),
    entries: async () => entries(await use()),
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
