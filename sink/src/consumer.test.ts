import { describe, expect, it } from 'vitest';
import type { Flush } from './batcher.js';
import { multiRangeToken } from './consumer.js';

const flush = (partition: number, first: number, last: number): Flush => ({
  partition,
  first: String(first),
  last: String(last),
  body: '',
  rows: 0,
  bytes: 0,
  dedupToken: '',
  commit: { topic: 't', partition, offset: String(last + 1) },
  replay: false,
});

describe('multiRangeToken', () => {
  it('spells out a few ranges, and is the same for the same ranges', () => {
    const flushes = [flush(0, 10, 19), flush(3, 5, 7)];
    expect(multiRangeToken('tidemark.events', flushes)).toBe('tidemark.events:0:10-19,3:5-7');
    expect(multiRangeToken('tidemark.events', [flush(0, 10, 19), flush(3, 5, 7)])).toBe(
      multiRangeToken('tidemark.events', flushes),
    );
  });

  it('stays short enough for Kafka offset metadata with hundreds of partitions, and tells ranges apart', () => {
    const many = Array.from({ length: 500 }, (_, p) => flush(p, 1_000_000_000, 1_000_000_999));
    const token = multiRangeToken('tidemark.events', many);
    expect(token.length).toBeLessThan(200);
    expect(token).toMatch(/^tidemark\.events:500 ranges:[0-9a-f]{64}$/);
    const other = many.map((f, p) => (p === 499 ? flush(p, 1_000_000_000, 1_000_001_000) : f));
    expect(multiRangeToken('tidemark.events', other)).not.toBe(token);
  });
});
