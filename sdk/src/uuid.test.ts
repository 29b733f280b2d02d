import { expect, it } from 'vitest';
import { uuidv7 } from './uuid.js';

it('mints RFC 9562 version 7 ids carrying the current time', () => {
  const before = Date.now();
  const id = uuidv7();
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const ms = Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);
  expect(ms).toBeGreaterThanOrEqual(before);
  expect(ms).toBeLessThanOrEqual(Date.now() + 1);
});

it('mints ids that sort in the order they were made, also many within one millisecond', () => {
  const ids = Array.from({ length: 5000 }, uuidv7);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(ids);
});
