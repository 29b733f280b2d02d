import { expect, it } from 'vitest';
import { chunks, envelope, MAX_BODY_BYTES, MAX_BODY_EVENTS } from './batch.js';
import type { Entry } from './queue.js';

const event = (id: number, size: number): Entry => [
  String(id).padStart(4, '0'),
  JSON.stringify({ p: 'x'.repeat(size) }),
];
const byteLength = (text: string) => new TextEncoder().encode(text).length;

it('builds a Segment batch body around the events', () => {
  const body = JSON.parse(envelope('wk', ['{"a":1}', '{"b":2}'], 0));
  expect(body).toEqual({ writeKey: 'wk', sentAt: expect.any(String), batch: [{ a: 1 }, { b: 2 }] });
  expect(Date.parse(body.sentAt)).not.toBeNaN();
});

it('says in the body how many events were dropped unsent, when some were', () => {
  const body = JSON.parse(envelope('wk', ['{"a":1}'], 3));
  expect(body).toEqual({ writeKey: 'wk', sentAt: expect.any(String), dropped: 3, batch: [{ a: 1 }] });
});

it('splits events, in order, into bodies below the keepalive limit', () => {
  const entries = Array.from({ length: 50 }, (_, i) => event(i, 3000));
  const bodies = [...chunks(entries, 'wk', 0)];
  expect(bodies.length).toBeGreaterThan(1);
  expect(bodies.flatMap((chunk) => chunk.ids)).toEqual(entries.map(([id]) => id));
  for (const chunk of bodies) {
    const body = envelope('wk', chunk.jsons, 0);
    expect(byteLength(body)).toBe(chunk.bytes);
    expect(chunk.bytes).toBeLessThanOrEqual(MAX_BODY_BYTES);
  }
});

it('counts the dropped field in the size of every body', () => {
  const entries = Array.from({ length: 50 }, (_, i) => event(i, 3000));
  for (const chunk of chunks(entries, 'wk', 12345)) {
    expect(byteLength(envelope('wk', chunk.jsons, 12345))).toBe(chunk.bytes);
    expect(chunk.bytes).toBeLessThanOrEqual(MAX_BODY_BYTES);
  }
});

it('counts bytes, not characters', () => {
  const [chunk] = [...chunks([['1', '"é€😀"']], 'wk', 0)];
  expect(chunk?.bytes).toBe(byteLength(envelope('wk', ['"é€😀"'], 0)));
});

it('sends an event larger than the limit alone', () => {
  const bodies = [...chunks([event(1, 10), event(2, MAX_BODY_BYTES), event(3, 10)], 'wk', 0)];
  expect(bodies.map((chunk) => chunk.ids)).toEqual([['0001'], ['0002'], ['0003']]);
  expect(bodies[1]?.bytes).toBeGreaterThan(MAX_BODY_BYTES);
});

it("puts at most MAX_BODY_EVENTS events in a body, below the gateway's 2 000, however small they are", () => {
  const entries = Array.from({ length: 1_200 }, (_, i) => event(i, 0));
  const bodies = [...chunks(entries, 'wk', 0)];
  expect(bodies.map((chunk) => chunk.ids.length)).toEqual([MAX_BODY_EVENTS, MAX_BODY_EVENTS, 200]);
  expect(bodies.flatMap((chunk) => chunk.ids)).toEqual(entries.map(([id]) => id));
  expect(MAX_BODY_EVENTS).toBeLessThan(2_000);
});
