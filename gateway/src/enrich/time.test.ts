import { describe, expect, it } from 'vitest';
import { parseTimestamp } from './time.js';

// `t` and `z` in lower case are the same time to the parser but not toISOString()'s form, so they take the
// regular expression: each canonical text is checked against that path's answer.
const regexPath = (canonical: string) => canonical.replace('T', 't').replace('Z', 'z');

describe('parseTimestamp', () => {
  it('reads toISOString() text as the general parser does', () => {
    for (const text of [
      '2024-05-01T12:30:00.000Z',
      '2024-02-29T23:59:59.999Z',
      '1970-01-01T00:00:00.000Z',
      '2105-12-31T23:59:59.999Z',
      new Date(1_765_000_000_123).toISOString(),
    ]) {
      expect(parseTimestamp(text), text).toBe(Date.parse(text));
      expect(parseTimestamp(regexPath(text)), regexPath(text)).toBe(Date.parse(text));
    }
  });

  it('refuses toISOString()-shaped text of no real day, time or allowed year, as the general parser does', () => {
    for (const text of [
      '2023-02-29T00:00:00.000Z',
      '2024-13-01T00:00:00.000Z',
      '2024-00-10T00:00:00.000Z',
      '2024-04-31T00:00:00.000Z',
      '2024-05-01T24:00:00.000Z',
      '2024-05-01T12:60:00.000Z',
      '2024-05-01T12:00:60.000Z',
      '2106-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
    ]) {
      expect(parseTimestamp(text), text).toBeUndefined();
      expect(parseTimestamp(regexPath(text)), regexPath(text)).toBeUndefined();
    }
  });

  it('refuses text of the canonical length with anything but digits where digits belong', () => {
    for (const text of ['2024-05-01T12:30:0a.000Z', '2024-05-01T12:30:00.0x0Z', '+024-05-01T12:30:00.000Z']) {
      expect(parseTimestamp(text), text).toBeUndefined();
    }
  });

  it('still reads the other forms clients send', () => {
    expect(parseTimestamp('2015-2-02T00:30:08.276Z')).toBe(Date.UTC(2015, 1, 2, 0, 30, 8, 276));
    expect(parseTimestamp('2024-05-01T14:30:00.000+02:00')).toBe(Date.UTC(2024, 4, 1, 12, 30));
    expect(parseTimestamp('2024-05-01 12:30:00.123456789Z')).toBe(Date.UTC(2024, 4, 1, 12, 30, 0, 123));
    expect(parseTimestamp('2024-05-01')).toBe(Date.UTC(2024, 4, 1));
  });
});
