import { describe, expect, it } from 'vitest';
import { clock, resolveTime } from './dates.js';

describe('resolveTime', () => {
  // Thursday 19 March 2026, evening.
  const thursday = Date.parse('2026-03-19T18:30:15.250Z');

  it('reads the day words as UTC midnights', () => {
    expect(resolveTime('today', thursday)).toBe('2026-03-19 00:00:00.000');
    expect(resolveTime('yesterday', thursday)).toBe('2026-03-18 00:00:00.000');
    expect(resolveTime('tomorrow', thursday)).toBe('2026-03-20 00:00:00.000');
    expect(resolveTime('now', thursday)).toBe('2026-03-19 18:30:15.250');
    expect(resolveTime('7d', thursday)).toBe('2026-03-12 00:00:00.000');
    expect(resolveTime('0d', thursday)).toBe('2026-03-19 00:00:00.000');
  });

  it('starts the week on Monday, also when today is a Sunday or a Monday', () => {
    expect(resolveTime('week', thursday)).toBe('2026-03-16 00:00:00.000');
    expect(resolveTime('week', Date.parse('2026-03-22T23:59:59Z'))).toBe('2026-03-16 00:00:00.000');
    expect(resolveTime('week', Date.parse('2026-03-23T00:00:00Z'))).toBe('2026-03-23 00:00:00.000');
  });

  it('starts the month on the 1st, across a year boundary for yesterday', () => {
    expect(resolveTime('month', thursday)).toBe('2026-03-01 00:00:00.000');
    expect(resolveTime('yesterday', Date.parse('2026-01-01T05:00:00Z'))).toBe('2025-12-31 00:00:00.000');
  });

  it('leaves anything else to the gateway to read', () => {
    expect(resolveTime('2026-03-01', thursday)).toBe('2026-03-01');
    expect(resolveTime('2026-03-01T10:00:00Z', thursday)).toBe('2026-03-01T10:00:00Z');
    expect(resolveTime('Today', thursday)).toBe('2026-03-19 00:00:00.000');
  });
});

describe('clock', () => {
  it('is pinned by TIDEMARK_NOW and refuses a value that is not a time', () => {
    expect(clock({ TIDEMARK_NOW: '2026-03-19T18:00:00Z' })).toBe(Date.parse('2026-03-19T18:00:00Z'));
    expect(() => clock({ TIDEMARK_NOW: 'soon' })).toThrow(/TIDEMARK_NOW is not a time/);
    expect(Math.abs(clock({}) - Date.now())).toBeLessThan(1000);
  });
});
