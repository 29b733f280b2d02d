import 'fake-indexeddb/auto';
import { expect, it } from 'vitest';
import { createQueue } from './queue.js';
import { createIdbStore, createMemoryStore } from './store.js';

// IndexedDB semantics come from fake-indexeddb, a complete implementation of the API in memory.

/** Every record of one object store, read with the raw IndexedDB API as the browser tests do. */
function rawRecords(database: string, storeName: string) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const open = indexedDB.open(database);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const records: Record<string, unknown> = {};
      const cursor = db.transaction(storeName).objectStore(storeName).openCursor();
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

it("keeps events in database 'tidemark', object store 'queue', keyed by messageId", async () => {
  const store = createIdbStore();
  await store.set('0190-a', { writeKey: 'wk', json: '{"a":1}' });
  expect(await rawRecords('tidemark', 'queue')).toEqual({ '0190-a': { writeKey: 'wk', json: '{"a":1}' } });
});

it('writes, lists and deletes records', async () => {
  const store = createIdbStore('roundtrip', 'queue');
  await store.set('1', { writeKey: 'wk', json: 'one' });
  await store.set('2', { writeKey: 'wk', json: 'two' });
  await store.set('3', { writeKey: 'wk', json: 'three' });
  await store.delMany(['1', '3', 'unknown']);
  expect(await store.entries()).toEqual([['2', { writeKey: 'wk', json: 'two' }]]);
});

it('gives a reloaded page the events the last one did not get acknowledged', async () => {
  const first = createQueue(createIdbStore('reload', 'queue'), 'wk', () => {});
  first.add('1', 'delivered');
  first.add('2', 'pending');
  first.remove(['1']);
  await first.idle();

  const next = createQueue(createIdbStore('reload', 'queue'), 'wk', () => {});
  expect(await next.ready).toBe(1);
  expect(next.list()).toEqual([['2', 'pending']]);
});

it('has a memory store with the same behaviour', async () => {
  const store = createMemoryStore();
  await store.set('1', { writeKey: 'wk', json: 'one' });
  await store.set('2', { writeKey: 'wk', json: 'two' });
  await store.delMany(['1']);
  expect(await store.entries()).toEqual([['2', { writeKey: 'wk', json: 'two' }]]);
});
