import { describe, expect, it } from 'vitest';
import { addLineage, countRows, createBatcher } from './batcher.js';

const row = (id: number) => `${JSON.stringify({ event_id: `id-${id}`, event: 'click' })}\n`;
const limits = { topic: 'tidemark.events', maxRows: 1000, maxBytes: 1_000_000, maxWaitMs: 1000 };

describe('addLineage', () => {
  it('prepends partition and offset to every line without parsing it', () => {
    const { text, rows } = addLineage(row(1) + row(2), 3, '42');
    expect(rows).toBe(2);
    expect(text).toBe(
      '{"_partition":3,"_offset":42,"event_id":"id-1","event":"click"}\n' +
        '{"_partition":3,"_offset":42,"event_id":"id-2","event":"click"}\n',
    );
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)._offset),
    ).toEqual([42, 42]);
  });

  it('keeps escaped newlines and braces inside strings intact', () => {
    const value = `${JSON.stringify({ title: 'a\n{b}', properties: '{"x":"\\n{"}' })}\n`;
    const { text, rows } = addLineage(value, 0, '7');
    expect(rows).toBe(1);
    expect(JSON.parse(text)).toEqual({
      _partition: 0,
      _offset: 7,
      title: 'a\n{b}',
      properties: '{"x":"\\n{"}',
    });
  });

  it('adds the missing final newline and copies 64-bit offsets as digits', () => {
    const { text } = addLineage('{"a":1}', 1, '9223372036854775806');
    expect(text).toBe('{"_partition":1,"_offset":9223372036854775806,"a":1}\n');
  });

  it('treats an empty value (tombstone) as no rows', () => {
    expect(addLineage('', 0, '1')).toEqual({ text: '', rows: 0 });
  });

  it('names the topic first when given one, and counts rows with or without a final newline', () => {
    expect(addLineage('{"a":1}\n{"a":2}', 4, '8', 'tidemark.events').text).toBe(
      '{"_topic":"tidemark.events","_partition":4,"_offset":8,"a":1}\n' +
        '{"_topic":"tidemark.events","_partition":4,"_offset":8,"a":2}\n',
    );
    expect([countRows(''), countRows('{"a":1}'), countRows('{"a":1}\n'), countRows('{}\n{}')]).toEqual([
      0, 1, 1, 2,
    ]);
  });
});

describe('createBatcher', () => {
  it('is full at maxRows, counting rows (lines), not messages', () => {
    const b = createBatcher({ ...limits, maxRows: 5 });
    b.add(0, '0', row(1) + row(2));
    b.add(0, '1', row(3) + row(4));
    expect(b.isFull()).toBe(false);
    b.add(1, '0', row(5));
    expect(b.isFull()).toBe(true);
    expect(b.isDue()).toBe(true);
    expect(b.take().map((f) => [f.partition, f.rows])).toEqual([
      [0, 4],
      [1, 1],
    ]);
    expect(b.isFull()).toBe(false);
    expect(b.take()).toEqual([]);
  });

  it('is full at maxBytes, counting UTF-8 bytes of the body with lineage', () => {
    const b = createBatcher({ ...limits, maxBytes: 200 });
    b.add(0, '0', `${JSON.stringify({ title: 'é'.repeat(40) })}\n`);
    expect(b.isFull()).toBe(false);
    b.add(0, '1', `${JSON.stringify({ title: 'é'.repeat(40) })}\n`);
    const [flush] = b.take();
    expect(flush?.bytes).toBe(Buffer.byteLength(flush?.body ?? ''));
    expect(flush?.bytes).toBeGreaterThanOrEqual(200);
  });

  it('becomes due maxWaitMs after the first buffered row, by the injected clock', () => {
    let now = 10_000;
    const b = createBatcher({ ...limits, maxWaitMs: 500, now: () => now });
    expect(b.msUntilDue()).toBeUndefined();
    expect(b.isDue()).toBe(false);
    b.add(0, '0', row(1));
    now += 300;
    b.add(0, '1', row(2));
    expect(b.msUntilDue()).toBe(200);
    expect(b.isDue()).toBe(false);
    now += 200;
    expect(b.isDue()).toBe(true);
    b.take();
    // The wait restarts with the next first row, not from the last flush.
    now += 10_000;
    b.add(0, '2', row(3));
    expect(b.isDue()).toBe(false);
    expect(b.msUntilDue()).toBe(500);
  });

  it('makes one flush per partition, with lineage, committing last offset + 1', () => {
    const b = createBatcher(limits);
    b.add(2, '10', row(1));
    b.add(0, '5', row(2) + row(3));
    b.add(2, '11', row(4));
    b.add(0, '9007199254740993', row(5));
    const [p0, p2, ...more] = b.take();
    expect(more).toEqual([]);
    expect(p0?.body.split('\n').filter(Boolean)).toEqual([
      '{"_topic":"tidemark.events","_partition":0,"_offset":5,"event_id":"id-2","event":"click"}',
      '{"_topic":"tidemark.events","_partition":0,"_offset":5,"event_id":"id-3","event":"click"}',
      '{"_topic":"tidemark.events","_partition":0,"_offset":9007199254740993,"event_id":"id-5","event":"click"}',
    ]);
    expect(p2?.body.split('\n').filter(Boolean)).toEqual([
      '{"_topic":"tidemark.events","_partition":2,"_offset":10,"event_id":"id-1","event":"click"}',
      '{"_topic":"tidemark.events","_partition":2,"_offset":11,"event_id":"id-4","event":"click"}',
    ]);
    expect(p0).toMatchObject({ partition: 0, first: '5', last: '9007199254740993', rows: 3, replay: false });
    expect(p2).toMatchObject({ partition: 2, first: '10', last: '11', rows: 2 });
    // Beyond 2^53: computed with BigInt, not a JavaScript number.
    expect(p0?.commit).toEqual({ topic: 'tidemark.events', partition: 0, offset: '9007199254740994' });
    expect(p2?.commit).toEqual({ topic: 'tidemark.events', partition: 2, offset: '12' });
    expect(b.rows).toBe(0);
  });

  it('names each flush by its topic, partition and offset range', () => {
    const a = createBatcher(limits);
    a.add(1, '3', row(1));
    a.add(0, '7', row(3));
    a.add(1, '4', row(2));
    expect(a.take().map((f) => f.dedupToken)).toEqual(['tidemark.events:0:7-7', 'tidemark.events:1:3-4']);
  });

  it('rebuilds an announced range as one flush, whatever the limits, and hands out what follows in the next take', () => {
    let now = 0;
    const b = createBatcher({ ...limits, maxRows: 2, now: () => now });
    b.replay(0, '12');
    b.add(0, '10', row(1) + row(2));
    // Full by rows, but the announced range is not complete: nothing of partition 0 may go yet.
    expect(b.isFull()).toBe(true);
    b.add(1, '3', row(9));
    expect(b.take().map((f) => f.partition)).toEqual([1]);
    expect(b.rows).toBe(2);
    now += 5_000;
    expect(b.take()).toEqual([]);
    b.add(0, '11', row(3));
    b.add(0, '12', row(4));
    expect(b.isDue()).toBe(true);
    b.add(0, '13', row(5));
    b.add(1, '4', row(6));
    now += limits.maxWaitMs;
    // One flush per partition in a take: both ranges of partition 0 would be announced in one commit, and Kafka
    // keeps the last offset committed for a partition, which would pass over the replayed range.
    const [replayed, other, ...more] = b.take();
    expect(more).toEqual([]);
    expect(replayed).toMatchObject({
      partition: 0,
      first: '10',
      last: '12',
      rows: 4,
      replay: true,
      dedupToken: 'tidemark.events:0:10-12',
    });
    expect(other).toMatchObject({ partition: 1, first: '4', last: '4' });
    // What followed the range has waited its time already: it is due at once, not a wait later.
    expect(b.rows).toBe(1);
    expect(b.isDue()).toBe(true);
    expect(b.take()).toEqual([
      expect.objectContaining({ partition: 0, first: '13', last: '13', rows: 1, replay: false }),
    ]);
    expect(b.rows).toBe(0);
  });

  it('rebuilds an announced range under the token its first owner announced, which may name other partitions', () => {
    const b = createBatcher(limits);
    const announced = 'tidemark.events:0:10-11,1:4-4';
    b.replay(0, '11', announced);
    b.add(0, '10', row(1));
    b.add(0, '11', row(2));
    b.add(0, '12', row(3));
    const [replayed] = b.take();
    expect(replayed).toMatchObject({ first: '10', last: '11', replay: true, dedupToken: announced });
    // What follows the range is a flush of this owner's, under the range's own token.
    const [after] = b.take();
    expect(after).toMatchObject({
      first: '12',
      last: '12',
      replay: false,
      dedupToken: 'tidemark.events:0:12-12',
    });
  });

  it('refuses a replay once messages of the partition are buffered', () => {
    const b = createBatcher(limits);
    b.add(0, '1', row(1));
    expect(() => b.replay(0, '5')).toThrow(/after messages were buffered/);
  });

  it('commits a tombstone offset even though it adds no rows', () => {
    const b = createBatcher(limits);
    b.add(0, '4', '');
    const [flush] = b.take();
    expect(flush?.rows).toBe(0);
    expect(flush?.body).toBe('');
    expect(flush?.commit).toEqual({ topic: 'tidemark.events', partition: 0, offset: '5' });
  });

  it('forgets everything on clear', () => {
    const b = createBatcher(limits);
    b.add(0, '1', row(1));
    b.clear();
    expect(b.rows).toBe(0);
    expect(b.isDue()).toBe(false);
    expect(b.take()).toEqual([]);
  });
});
