import { afterEach, describe, expect, it, vi } from 'vitest';
import { BEACON_GRACE, createQueue, type Entry, type QueueLimits } from './queue.js';
import { createMemoryStore } from './store.js';
import type { EventStore, StoredEvent } from './types.js';
import { idTime, uuidv7 } from './uuid.js';

const quiet = () => {};
const roomy: QueueLimits = { maxEvents: 1000, maxBytes: 1e9, maxAge: 7 * 864e5 };

/** A UUIDv7 minted at `ms` (`n` orders the ids of one millisecond): the queue reads an event's age from its id. */
function idAt(ms: number, n = 0): string {
  const time = ms.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${n.toString(16).padStart(3, '0')}-8000-000000000000`;
}

/** An event as the client hands it to the queue, with a real, fresh id. */
const fresh = (name: string): Entry => [uuidv7(), JSON.stringify({ event: name })];

/** The keys a store holds, sorted. */
const keys = async (store: EventStore) => (await store.entries()).map(([key]) => key).sort();

/** A store whose writes are refused (a full IndexedDB quota); it still reads and deletes what it holds. */
function refusing(holding: EventStore = createMemoryStore()) {
  const store: EventStore & { attempts: number } = {
    attempts: 0,
    setMany: () => {
      store.attempts++;
      return Promise.reject(new DOMException('quota', 'QuotaExceededError'));
    },
    delMany: (ids) => holding.delMany(ids),
    entries: () => holding.entries(),
  };
  return store;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the id helper of these tests', () => {
  it('mints ids whose time the queue reads back', () => {
    expect(idTime(idAt(1_700_000_000_123))).toBe(1_700_000_000_123);
    expect(idAt(5, 1) > idAt(5, 0)).toBe(true);
  });
});

describe('storing', () => {
  it('writes added events to the first store under their messageId, tagged with the write key', async () => {
    const store = createMemoryStore();
    const queue = createQueue([store, createMemoryStore()], 'key', roomy, quiet);
    const event = fresh('a');
    await queue.save([event]);
    expect(await store.entries()).toEqual([[event[0], { writeKey: 'key', json: event[1] }]]);
  });

  it('writes what is saved as the page hides at once, though a take still waits on the store', async () => {
    // A read under way: IndexedDB answers in a later task, which a closing page may never run.
    const backing = createMemoryStore();
    let release: (() => void) | undefined;
    const slow: EventStore = {
      setMany: (entries) => backing.setMany(entries),
      delMany: (ids) => backing.delMany(ids),
      // The first read waits for `release()`, later ones answer at once.
      entries: () =>
        release ? backing.entries() : new Promise((resolve) => (release = () => resolve(backing.entries()))),
    };
    const queue = createQueue([slow], 'wk', roomy, quiet);
    const taking = queue.take();
    await vi.waitFor(() => expect(release).toBeDefined());
    const closing = fresh('tracked as the tab closed');
    void queue.save([closing], true);
    // Written before the read returned (chaos/scenarios/browser-offline.ts lost such events without this).
    expect(await keys(backing)).toEqual([closing[0]]);
    release?.();
    // The take issued before the save leaves it out, as if it had waited for the read.
    expect(await taking).toEqual([[], 0]);
    const [next] = await queue.take();
    expect(next).toEqual([closing]);
  });

  it('moves on to the next store when one rejects a write, and stays there for the rest of the page', async () => {
    const errors: unknown[] = [];
    const idb = refusing();
    const local = createMemoryStore();
    const memory = createMemoryStore();
    const queue = createQueue([idb, local, memory], 'key', roomy, (...args) => errors.push(args));
    const [a, b] = [fresh('a'), fresh('b')];
    await queue.save([a]);
    await queue.save([b]);
    expect(await keys(local)).toEqual([a[0], b[0]]);
    expect(await keys(memory)).toEqual([]);
    expect(idb.attempts).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it('falls from IndexedDB to localStorage to memory as each rejects', async () => {
    const memory = createMemoryStore();
    const queue = createQueue([refusing(), refusing(), memory], 'key', roomy, quiet);
    const a = fresh('a');
    await queue.save([a]);
    expect(await keys(memory)).toEqual([a[0]]);
    expect(await queue.take()).toEqual([[a], 0]);
  });

  it('rejects the write when every store rejected it', async () => {
    const queue = createQueue([refusing(), refusing()], 'key', roomy, quiet);
    await expect(queue.save([fresh('a')])).rejects.toThrow('quota');
  });

  it('still takes and deletes what an earlier store kept before it began rejecting writes', async () => {
    const idbContents = createMemoryStore();
    const old = fresh('kept by IndexedDB');
    await idbContents.setMany([[old[0], { writeKey: 'key', json: old[1] }]]);
    const local = createMemoryStore();
    const queue = createQueue([refusing(idbContents), local], 'key', roomy, quiet);
    const added = fresh('written to localStorage');
    await queue.save([added]);
    expect(await queue.take()).toEqual([[old, added], 0]);
    await queue.remove([old[0], added[0]]);
    expect(await keys(idbContents)).toEqual([]);
    expect(await keys(local)).toEqual([]);
  });

  it('runs operations in the order issued: a delete never overtakes the write of its event', async () => {
    const memory = createMemoryStore();
    const log: string[] = [];
    const slow: EventStore = {
      // The write takes longer than the delete issued right after it.
      setMany: (entries) =>
        new Promise((resolve) =>
          setTimeout(() => {
            log.push(`set ${entries.map(([key]) => key)}`);
            resolve(memory.setMany(entries));
          }, 20),
        ),
      delMany: async (ids) => {
        log.push(`del ${ids}`);
        await memory.delMany(ids);
      },
      entries: () => memory.entries(),
    };
    const queue = createQueue([slow], 'key', roomy, quiet);
    const a = fresh('a');
    void queue.save([a]);
    await queue.remove([a[0]]);
    expect(log).toEqual([`set ${a[0]}`, `del ${a[0]}`]);
    expect(await keys(memory)).toEqual([]);
  });

  it('takes every event added before the take, even while the write is slow', async () => {
    const memory = createMemoryStore();
    const slow: EventStore = {
      ...memory,
      setMany: (entries) => new Promise((resolve) => setTimeout(() => resolve(memory.setMany(entries)), 20)),
    };
    const queue = createQueue([slow], 'key', roomy, quiet);
    const a = fresh('a');
    void queue.save([a]);
    expect(await queue.take()).toEqual([[a], 0]);
  });
});

describe('take', () => {
  it('returns the stored events oldest first, by their time-ordered ids', async () => {
    const store = createMemoryStore();
    const now = Date.now();
    const ids = [idAt(now - 10, 2), idAt(now - 30), idAt(now - 10, 1), idAt(now - 20)];
    await store.setMany(ids.map((id): [string, StoredEvent] => [id, { writeKey: 'key', json: id }]));
    const [entries] = await createQueue([store], 'key', roomy, quiet).take();
    expect(entries.map(([id]) => id)).toEqual([
      idAt(now - 30),
      idAt(now - 20),
      idAt(now - 10, 1),
      idAt(now - 10, 2),
    ]);
  });

  it("returns only its own write key's events, and leaves the others stored", async () => {
    const store = createMemoryStore();
    const [mine, theirs] = [fresh('mine'), fresh('theirs')];
    await store.setMany([
      [mine[0], { writeKey: 'key', json: mine[1] }],
      [theirs[0], { writeKey: 'other', json: theirs[1] }],
    ]);
    const queue = createQueue([store], 'key', { ...roomy, maxEvents: 0 }, quiet);
    // Over its limit, the queue drops its own event only.
    expect(await queue.take()).toEqual([[], 1]);
    expect(await keys(store)).toEqual([theirs[0]]);
  });

  it('deletes the oldest events beyond maxEvents and says how many', async () => {
    const store = createMemoryStore();
    const queue = createQueue([store], 'key', { ...roomy, maxEvents: 2 }, quiet);
    const events = ['a', 'b', 'c', 'd'].map(fresh);
    await queue.save(events);
    expect(await queue.take()).toEqual([events.slice(2), 2]);
    expect(await keys(store)).toEqual(events.slice(2).map(([id]) => id));
    expect(await queue.take()).toEqual([events.slice(2), 0]);
  });

  it('deletes the oldest events beyond maxBytes of JSON and says how many', async () => {
    const store = createMemoryStore();
    const queue = createQueue([store], 'key', { ...roomy, maxBytes: 25 }, quiet);
    const events: Entry[] = ['a', 'b', 'c'].map((letter) => [uuidv7(), letter.repeat(10)]);
    await queue.save(events);
    expect(await queue.take()).toEqual([events.slice(1), 1]);
    expect(await keys(store)).toEqual(events.slice(1).map(([id]) => id));
  });

  it('deletes the events older than maxAge, by the time in their id, and says how many', async () => {
    const store = createMemoryStore();
    const now = Date.now();
    const events: Entry[] = [now - 50_000, now - 20_000, now - 1_000].map((at) => [idAt(at), String(at)]);
    await store.setMany(events.map(([id, json]): [string, StoredEvent] => [id, { writeKey: 'key', json }]));
    const queue = createQueue([store], 'key', { ...roomy, maxAge: 10_000 }, quiet);
    expect(await queue.take()).toEqual([events.slice(2), 2]);
    expect(await keys(store)).toEqual([events[2]?.[0]]);
  });

  it('skips events beaconed less than BEACON_GRACE ago, in every tab, and takes them again after', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createMemoryStore();
    const queue = createQueue([store], 'key', roomy, quiet);
    const otherTab = createQueue([store], 'key', roomy, quiet);
    const [a, b] = [fresh('a'), fresh('b')];
    await queue.save([a, b]);
    await queue.markBeaconed([a]);
    expect((await store.entries()).find(([id]) => id === a[0])?.[1]).toEqual({
      writeKey: 'key',
      json: a[1],
      beaconed: Date.now(),
    });
    expect(await queue.take()).toEqual([[b], 0]);
    vi.advanceTimersByTime(BEACON_GRACE - 1);
    expect(await otherTab.take()).toEqual([[b], 0]);
    vi.advanceTimersByTime(1);
    expect(await otherTab.take()).toEqual([[a, b], 0]);
  });
});

describe('remove', () => {
  it('deletes events from the store and from mine()', async () => {
    const store = createMemoryStore();
    const queue = createQueue([store], 'key', roomy, quiet);
    const [a, b] = [fresh('a'), fresh('b')];
    await queue.save([a, b]);
    await queue.remove([a[0], 'unknown']);
    expect(await keys(store)).toEqual([b[0]]);
    expect(queue.mine()).toEqual([b]);
  });
});

describe('mine', () => {
  it('lists the events this page added, oldest first, and not those other pages stored', async () => {
    const store = createMemoryStore();
    const otherTab = createQueue([store], 'key', roomy, quiet);
    const queue = createQueue([store], 'key', roomy, quiet);
    const [theirs, later] = [fresh('theirs'), fresh('later')];
    // Added second, tracked first.
    const earlier: Entry = [idAt(Date.now() - 1000), 'earlier'];
    await otherTab.save([theirs]);
    await queue.save([later]);
    await queue.save([earlier]);
    expect(queue.mine()).toEqual([earlier, later]);
    expect((await queue.take())[0]).toHaveLength(3);
    expect(queue.mine()).toEqual([earlier, later]);
  });

  it('forgets the events another tab removed once a take found them gone', async () => {
    const store = createMemoryStore();
    const queue = createQueue([store], 'key', roomy, quiet);
    const otherTab = createQueue([store], 'key', roomy, quiet);
    const [a, b] = [fresh('a'), fresh('b')];
    await queue.save([a, b]);
    // The other tab sent `a` and deleted it.
    expect((await otherTab.take())[0]).toEqual([a, b]);
    await otherTab.remove([a[0]]);
    expect(queue.mine()).toEqual([a, b]);
    await queue.take();
    expect(queue.mine()).toEqual([b]);
  });

  it('keeps beaconed events: they stay stored until a tab delivered them', async () => {
    const queue = createQueue([createMemoryStore()], 'key', roomy, quiet);
    const a = fresh('a');
    await queue.save([a]);
    await queue.markBeaconed([a]);
    await queue.take();
    expect(queue.mine()).toEqual([a]);
  });
});

describe('regressions', () => {
  it('keeps in mine() an event added while a take was waiting its turn', async () => {
    const queue = createQueue([createMemoryStore()], 'key', roomy, () => {});
    const taking = queue.take();
    const added: Entry = [uuidv7(), '{"event":"a"}'];
    void queue.save([added]);
    await taking;
    expect(queue.mine()).toEqual([added]);
  });

  it('keeps writing to its only store after that store rejected one write', async () => {
    const memory = createMemoryStore();
    let fail = true;
    const flaky: EventStore = {
      ...memory,
      setMany(entries) {
        if (!fail) return memory.setMany(entries);
        fail = false;
        return Promise.reject(new Error('transient'));
      },
    };
    const queue = createQueue([flaky], 'key', roomy, () => {});
    await expect(queue.save([[uuidv7(), 'a']])).rejects.toThrow('transient');
    const kept: Entry = [uuidv7(), 'b'];
    await queue.save([kept]);
    expect(await queue.take()).toEqual([[kept], 0]);
  });
});
