import { expect, it } from 'vitest';
import { chunks, envelope, MAX_BODY_BYTES } from './batch.js';
import type { Entry } from './queue.js';

const event = (id: number, size: number): Entry => [
  String(id).padStart(4, '0'),
  JSON.stringify({ p: 'x'.repeat(size) }),
];
const byteLength = (text: string) => new TextEncoder().encode(text).length;

it('builds a Segment batch body around the events', () => {
  const body = JSON.parse(envelope('wk', ['{"a":1}', '{"b":2}']));
  expect(body).toEqual({ writeKey: 'wk', sentAt: expect.any(String), batch: [{ a: 1 }, { b: 2 }] });
  expect(Date.parse(body.sentAt)).not.toBeNaN();
});

it('splits events, in order, into bodies below the keepalive limit', () => {
  const entries = Array.from({ length: 50 }, (_, i) => event(i, 3000));
  const bodies = [...chunks(entries, 'wk')];
  expect(bodies.length).toBeGreaterThan(1);
  expect(bodies.flatMap((chunk) => chunk.ids)).toEqual(entries.map(([id]) => id));
  for (const chunk of bodies) {
    const body = envelope('wk', chunk.jsons);
    expect(byteLength(body)).toBe(chunk.bytes);
    expect(chunk.bytes).toBeLessThanOrEqual(MAX_BODY_BYTES);
  }
});

it('counts bytes, not characters', () => {
  const [chunk] = [...chunks([['1', '"é€😀"']], 'wk')];
  expect(chunk?.bytes).toBe(byteLength(envelope('wk', ['"é€😀"'])));
});

it('sends an event larger than the limit alone', () => {
  const bodies = [...chunks([event(1, 10), event(2, MAX_BODY_BYTES), event(3, 10)], 'wk')];
  expect(bodies.map((chunk) => chunk.ids)).toEqual([['0001'], ['0002'], ['0003']]);
  expect(bodies[1]?.bytes).toBeGreaterThan(MAX_BODY_BYTES);
});
