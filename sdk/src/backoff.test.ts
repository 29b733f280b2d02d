import { afterEach, expect, it, vi } from 'vitest';
import { backoff, retriable } from './backoff.js';

afterEach(() => {
  vi.restoreAllMocks();
});

it('retries no answer, 408, 429 and 5xx, and nothing else', () => {
  expect([0, 408, 429, 500, 503, 599].map(retriable)).toEqual([true, true, true, true, true, true]);
  expect([200, 204, 400, 401, 403, 404, 413].map(retriable)).toEqual([
    false,
    false,
    false,
    false,
    false,
    false,
    false,
  ]);
});

it('doubles the delay from 1 s with 50–100 % jitter, capped at 60 s', () => {
  vi.spyOn(Math, 'random').mockReturnValue(1);
  expect([0, 1, 2, 5, 6, 20].map((attempt) => backoff(attempt, 0))).toEqual([
    1000, 2000, 4000, 32_000, 60_000, 60_000,
  ]);
  vi.spyOn(Math, 'random').mockReturnValue(0);
  expect(backoff(0, 0)).toBe(500);
});

it("never waits less than the gateway's Retry-After", () => {
  vi.spyOn(Math, 'random').mockReturnValue(0);
  expect(backoff(0, 30_000)).toBe(30_000);
  expect(backoff(3, 30_000)).toBe(30_000);
});
