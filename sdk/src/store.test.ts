import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createQueue } from './queue.js';
import { createIdbStore, createLocalStore, createMemoryStore } from './store.js';
import type { EventStore } from './types.js';
import { uuidv7 } from './uuid.js';

// IndexedDB semantics come from fake-indexeddb, a complete implementation of the API in memory.

const roomy = { maxEvents: 1000, maxBytes: 1e9, maxAge: 7 * 864e5 };

/** Every record of one object store, read with the raw IndexedDB API as the browser tests do. */
function rawRecords(database: string, storeName: string) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const open = indexedDB.open(database);
    open.onerror = () => reject(open.error);
    // What throws in an IndexedDB event handler is reported nowhere: a missing object store rejects instead of
    // leaving the test to time out.
    open.onsuccess = () => {
      const db = open.result;
      const records: Record<string, unknown> = {};
      let cursor: IDBRequest<IDBCursorWithValue | null>;
      try {
        cursor = db.transaction(storeName).objectStore(storeName).openCursor();
      } catch (error) {
        db.close();
        reject(error);
        return;
      }
      cursor.onerror = () => reject(cursor.error);
      cursor.onsuccess = () => {
        const current = cursor.result;
        if (!current) {
          db.close();
          resolve(records);
          return;
        }
        records[String(current.key)] = current.value;
        current.continue();
      };
    };
  });
}

/** The same round trip for every store: write, overwrite, delete (unknown keys too), list. */
async function roundTrip(store: EventStore) {
  await store.setMany([
    ['1', { writeKey: 'wk', json: 'one' }],
    ['2', { writeKey: 'wk', json: 'two' }],
  ]);
  await store.setMany([
    ['3', { writeKey: 'wk', json: 'three' }],
    ['2', { writeKey: 'wk', json: 'two', beaconed: 5 }],
  ]);
  await store.delMany(['1', '3', 'unknown']);
  return store.entries();
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('createIdbStore', () => {
  it("keeps events in database 'tidemark', object store 'queue', keyed by messageId", async () => {
    const store = createIdbStore();
    await store.setMany([['0190-a', { writeKey: 'wk', json: '{"a":1}' }]]);
    expect(await rawRecords('tidemark', 'queue')).toEqual({ '0190-a': { writeKey: 'wk', json: '{"a":1}' } });
  });

  it('asks IndexedDB to commit each write at once, not after its results came back to the page', async () => {
    // A page closed before an uncommitted transaction auto-commits loses it (chaos/scenarios/browser-offline.ts).
    const commit = vi.spyOn(IDBTransaction.prototype, 'commit');
    const store = createIdbStore('commit', 'queue');
    await store.setMany([[uuidv7(), { writeKey: 'wk', json: '{}' }]]);
    await store.delMany(['x']);
    expect(commit).toHaveBeenCalledTimes(2);
  });

  it('writes, overwrites, lists and deletes records', async () => {
    expect(await roundTrip(createIdbStore('roundtrip', 'queue'))).toEqual([
      ['2', { writeKey: 'wk', json: 'two', beaconed: 5 }],
    ]);
  });

  it('gives a reloaded page the events the last one did not get acknowledged', async () => {
    const [delivered, pending] = [uuidv7(), uuidv7()];
    const first = createQueue([createIdbStore('reload', 'queue')], 'wk', roomy, () => {});
    await first.save([
      [delivered, 'delivered'],
      [pending, 'pending'],
    ]);
    await first.remove([delivered]);

    const next = createQueue([createIdbStore('reload', 'queue')], 'wk', roomy, () => {});
    expect(await next.take()).toEqual([[[pending, 'pending']], 0]);
  });

  it('rejects, rather than throws, where IndexedDB is missing, so the queue moves on to the next store', async () => {
    vi.stubGlobal('indexedDB', undefined);
    const idb = createIdbStore('missing', 'queue');
    await expect(idb.setMany([['1', { writeKey: 'wk', json: 'one' }]])).rejects.toThrow();
    await expect(idb.entries()).rejects.toThrow();

    const memory = createMemoryStore();
    const queue = createQueue([createIdbStore('missing too', 'queue'), memory], 'wk', roomy, () => {});
    const id = uuidv7();
    await queue.save([[id, 'kept']]);
    expect(await memory.entries()).toEqual([[id, { writeKey: 'wk', json: 'kept' }]]);
  });
});

describe('createLocalStore', () => {
  it('keeps one item per event under its prefix, and leaves the other items of the storage alone', async () => {
    const storage: Record<string, string> = { 'tidemark.anonymousId': 'visitor' };
    const store = createLocalStore(storage, 'tidemark.q.');
    await store.setMany([['1', { writeKey: 'wk', json: 'one' }]]);
    expect(storage).toEqual({
      'tidemark.anonymousId': 'visitor',
      'tidemark.q.1': JSON.stringify({ writeKey: 'wk', json: 'one' }),
    });
    expect(await store.entries()).toEqual([['1', { writeKey: 'wk', json: 'one' }]]);
  });

  it('writes, overwrites, lists and deletes records', async () => {
    expect(await roundTrip(createLocalStore({}))).toEqual([
      ['2', { writeKey: 'wk', json: 'two', beaconed: 5 }],
    ]);
  });

  it('uses localStorage by default, read on first use', async () => {
    const store = createLocalStore();
    const storage: Record<string, string> = {};
    vi.stubGlobal('localStorage', storage);
    await store.setMany([['1', { writeKey: 'wk', json: 'one' }]]);
    expect(Object.keys(storage)).toEqual(['tidemark.q.1']);
  });

  it('rejects, rather than throws, where localStorage is missing or full', async () => {
    vi.stubGlobal('localStorage', undefined);
    await expect(createLocalStore().setMany([['1', { writeKey: 'wk', json: 'one' }]])).rejects.toThrow();
    const full = new Proxy<Record<string, string>>(
      {},
      {
        set() {
          throw new DOMException('quota', 'QuotaExceededError');
        },
      },
    );
    await expect(createLocalStore(full).setMany([['1', { writeKey: 'wk', json: 'one' }]])).rejects.toThrow(
      'quota',
    );
  });
});

describe('createMemoryStore', () => {
  it('behaves as the other stores', async () => {
    expect(await roundTrip(createMemoryStore())).toEqual([
      ['2', { writeKey: 'wk', json: 'two', beaconed: 5 }],
    ]);
  });

  it('keeps each store apart', async () => {
    const [one, two] = [createMemoryStore(), createMemoryStore()];
    await one.setMany([['1', { writeKey: 'wk', json: 'one' }]]);
    expect(await two.entries()).toEqual([]);
  });
});
