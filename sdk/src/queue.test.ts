import { describe, expect, it } from 'vitest';
import { BEACONED, createQueue, HELD, INFLIGHT, PENDING } from './queue.js';
import { createMemoryStore } from './store.js';
import type { EventStore, StoredEvent } from './types.js';

const quiet = () => {};

/** A memory store holding what an earlier page left, and a look at the keys it holds. */
function countingStore(initial: [string, StoredEvent][] = []) {
  const store = createMemoryStore();
  for (const [key, value] of initial) void store.set(key, value);
  return { store, stored: async () => (await store.entries()).map(([key]) => key).sort() };
}

describe('createQueue', () => {
  it('keeps an added event in memory and writes it to the store under its messageId', async () => {
    const { store, stored } = countingStore();
    const queue = createQueue(store, 'key', quiet);
    queue.add('01-a', '{"n":1}');
    expect(queue.list()).toEqual([['01-a', '{"n":1}']]);
    await queue.idle();
    expect(await stored()).toEqual(['01-a']);
    expect(await store.entries()).toEqual([['01-a', { writeKey: 'key', json: '{"n":1}' }]]);
  });

  it('lists events oldest first, by their time-ordered ids', () => {
    const queue = createQueue(createMemoryStore(), 'key', quiet);
    queue.add('03', 'c');
    queue.add('01', 'a');
    queue.add('02', 'b');
    expect(queue.list().map(([id]) => id)).toEqual(['01', '02', '03']);
  });

  it('loads the events an earlier page left, and only those of its own write key', async () => {
    const { store } = countingStore([
      ['01', { writeKey: 'key', json: 'mine' }],
      ['02', { writeKey: 'other', json: 'theirs' }],
    ]);
    const queue = createQueue(store, 'key', quiet);
    expect(await queue.ready).toBe(1);
    expect(queue.list()).toEqual([['01', 'mine']]);
  });

  it('keeps one copy of an event added while the stored ones were loading', async () => {
    const { store } = countingStore([['01', { writeKey: 'key', json: 'stored' }]]);
    const queue = createQueue(store, 'key', quiet);
    queue.add('01', 'stored');
    queue.add('02', 'new');
    expect(await queue.ready).toBe(0);
    expect(queue.list()).toEqual([
      ['01', 'stored'],
      ['02', 'new'],
    ]);
  });

  it('lists only the events in the asked state, and mark moves them between states', () => {
    const queue = createQueue(createMemoryStore(), 'key', quiet);
    for (const id of ['1', '2', '3', '4']) queue.add(id, id);
    queue.mark(['1'], INFLIGHT);
    queue.mark(['2'], BEACONED);
    queue.mark(['3', 'gone'], HELD);
    expect(queue.list(PENDING)).toEqual([['4', '4']]);
    expect(queue.list(INFLIGHT)).toEqual([['1', '1']]);
    expect(queue.list(BEACONED)).toEqual([['2', '2']]);
    expect(queue.list(HELD)).toEqual([['3', '3']]);
    queue.mark(['1', '2'], PENDING);
    expect(queue.list().map(([id]) => id)).toEqual(['1', '2', '4']);
  });

  it('keeps marked events in the store: only remove deletes them', async () => {
    const { store, stored } = countingStore();
    const queue = createQueue(store, 'key', quiet);
    for (const id of ['1', '2', '3']) queue.add(id, id);
    queue.mark(['1'], INFLIGHT);
    queue.mark(['2'], BEACONED);
    await queue.idle();
    expect(await stored()).toEqual(['1', '2', '3']);
    queue.remove(['1', '3']);
    expect(queue.list(INFLIGHT)).toEqual([]);
    await queue.idle();
    expect(await stored()).toEqual(['2']);
  });

  it('runs store operations in the order issued, so a delete never overtakes the write of its event', async () => {
    const writes: string[] = [];
    const slow: EventStore = {
      // The write takes longer than the delete issued right after it.
      set: (key) => new Promise((resolve) => setTimeout(() => resolve(void writes.push(`set ${key}`)), 20)),
      delMany: async (keys) => void writes.push(`del ${keys}`),
      entries: async () => [],
    };
    const queue = createQueue(slow, 'key', quiet);
    queue.add('1', 'a');
    queue.remove(['1']);
    await queue.idle();
    expect(writes).toEqual(['set 1', 'del 1']);
  });

  it('keeps working from memory when the store fails', async () => {
    const errors: unknown[] = [];
    const broken: EventStore = {
      set: () => Promise.reject(new Error('quota')),
      delMany: () => Promise.reject(new Error('closed')),
      entries: () => Promise.reject(new ReferenceError('indexedDB is not defined')),
    };
    const queue = createQueue(broken, 'key', (...args) => errors.push(args));
    expect(await queue.ready).toBe(0);
    queue.add('1', 'a');
    queue.add('2', 'b');
    queue.remove(['1']);
    await queue.idle();
    expect(queue.list()).toEqual([['2', 'b']]);
    // The failed load, two failed writes and the failed delete were all logged, none thrown.
    expect(errors).toHaveLength(4);
  });
});
