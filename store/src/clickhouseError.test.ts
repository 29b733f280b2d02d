import { describe, expect, it } from 'vitest';
import { clickHouseCode, toInsertError } from './clickhouseError.js';

describe('clickHouseCode', () => {
  it('reads the code of a parsed ClickHouse error, from either backend', () => {
    expect(clickHouseCode(Object.assign(new Error('x'), { code: '60', type: 'UNKNOWN_TABLE' }))).toBe(60);
  });

  it('reads the code of exception text the client could not parse (a quoted value with a NUL or a line break)', () => {
    // What @clickhouse/client 1.23.1 hands back for `SELECT {n:UInt8}` with n = "\u0000" from a server.
    expect(clickHouseCode(new Error('Code: 457. DB::Exception: Value \n\n'))).toBe(457);
  });

  it('has no code for errors that are not ClickHouse exceptions', () => {
    expect(clickHouseCode(new Error('socket hang up'))).toBeUndefined();
    expect(clickHouseCode(new Error('connect ECONNREFUSED 127.0.0.1:8123'))).toBeUndefined();
    expect(clickHouseCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined();
    expect(clickHouseCode('Code: 1. DB::Exception: x')).toBeUndefined();
  });
});

describe('toInsertError', () => {
  it('does not retry rows ClickHouse cannot parse, a lone surrogate escape among them', () => {
    const badEscape = Object.assign(new Error('Cannot parse escape sequence'), {
      code: '25',
      type: 'CANNOT_PARSE_ESCAPE_SEQUENCE',
    });
    expect(toInsertError('tidemark.events', badEscape)).toMatchObject({
      code: 'insert_rejected',
      retriable: false,
    });
    const network = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(toInsertError('tidemark.events', network)).toMatchObject({
      code: 'insert_failed',
      retriable: true,
    });
  });
});
