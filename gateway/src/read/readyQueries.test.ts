import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { bindReadyParams, checkReadyQueries, libraryQueries, type ReadyQuery } from './readyQueries.js';

const query = (params: ReadyQuery['params']): ReadyQuery => ({ name: 'q', sql: 'SELECT 1', params });

function problem(
  q: ReadyQuery,
  values: Record<string, string | string[]>,
): { param: unknown; message: string } {
  try {
    bindReadyParams(q, values);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    const e = error as GatewayError;
    expect(e.code).toBe('invalid_param');
    return { param: e.details?.param, message: e.message };
  }
  throw new Error('expected invalid_param');
}

describe('bindReadyParams', () => {
  it('reads each value as its ClickHouse type', () => {
    const q = query([
      { name: 's', type: 'String' },
      { name: 'n', type: 'UInt32' },
      { name: 'big', type: 'UInt64' },
      { name: 'neg', type: 'Int8' },
      { name: 'f', type: 'Float64' },
      { name: 'b', type: 'Bool' },
      { name: 'd', type: 'Date' },
      { name: 't', type: "DateTime64(3, 'UTC')" },
      { name: 'iso', type: 'DateTime' },
      { name: 'day', type: "DateTime64(3, 'UTC')" },
      { name: 'list', type: 'Array(LowCardinality(String))' },
      { name: 'maybe', type: 'Nullable(UInt8)' },
    ]);
    expect(
      bindReadyParams(q, {
        s: '',
        n: '42',
        big: '18446744073709551615',
        neg: '-128',
        f: '0.25',
        b: 'true',
        d: '2026-03-01',
        t: '2026-03-01 10:00:00.5',
        iso: '2026-03-01T12:00:00+02:00',
        day: '2026-03-01',
        list: ['/', '/pricing'],
        maybe: '7',
      }),
    ).toEqual({
      s: '',
      n: 42,
      // Past 2^53 a number would be rounded: passed on as text, which ClickHouse reads exactly.
      big: '18446744073709551615',
      neg: -128,
      f: 0.25,
      b: true,
      d: '2026-03-01',
      t: '2026-03-01 10:00:00.5',
      iso: '2026-03-01 10:00:00.000',
      day: '2026-03-01 00:00:00.000',
      list: ['/', '/pricing'],
      maybe: 7,
    });
  });

  it('fills defaults and takes a single value for an array', () => {
    const q = query([
      { name: 'limit', type: 'UInt32', default: '10' },
      { name: 'steps', type: 'Array(String)' },
    ]);
    expect(bindReadyParams(q, { steps: '/' })).toEqual({ limit: 10, steps: ['/'] });
  });

  it('names the parameter that is out of range, malformed or repeated', () => {
    const q = query([
      { name: 'n', type: 'UInt8' },
      { name: 't', type: 'DateTime' },
      { name: 'ns', type: 'Array(UInt32)' },
    ]);
    const ok = { n: '1', t: '2026-03-01', ns: '1' };
    expect(problem(q, { ...ok, n: '256' })).toMatchObject({
      param: 'n',
      message: expect.stringMatching(/0 to 255/),
    });
    expect(problem(q, { ...ok, n: '1.5' }).param).toBe('n');
    expect(problem(q, { ...ok, t: '2026-02-30 00:00:00' }).param).toBe('t');
    expect(problem(q, { ...ok, t: '1709251200' }).param).toBe('t');
    expect(problem(q, { ...ok, ns: ['1', 'x'] })).toMatchObject({ param: 'ns' });
    expect(problem(q, { ...ok, n: ['1', '2'] }).message).toMatch(/n must be given once/);
  });
});

describe('checkReadyQueries', () => {
  it('refuses at start a query whose placeholder type has no binding, or a name that is not URL-safe', () => {
    expect(() => checkReadyQueries([query([{ name: 'm', type: 'Map(String, UInt8)' }])])).toThrow(
      /no binding for m of type Map/,
    );
    expect(() => checkReadyQueries([{ ...query([]), name: 'Top Pages' }])).toThrow(/not URL-safe/);
    expect(() => checkReadyQueries([query([]), query([])])).toThrow(/two ready queries are named q/);
  });
});

describe('the query library as the gateway serves it', () => {
  it('loads every query of queries/, with a binding for each placeholder and the filters optional', async () => {
    const { queryNames } = await import('@tidemark/queries');
    const queries = await libraryQueries();
    expect(queries.map((q) => q.name)).toEqual([...queryNames]);
    const checked = checkReadyQueries(queries);
    const topPages = checked.get('top_pages') as ReadyQuery;
    // Only the range, the project and the limit: the filters and the time zone have their defaults.
    const bound = bindReadyParams(topPages, {
      project: 'demo',
      from: '2026-03-01',
      to: '2026-04-01',
      limit: '5',
    });
    expect(bound).toMatchObject({
      project: 'demo',
      host: '',
      country: '',
      device_type: '',
      filter: '',
      limit: 5,
    });
    const range = { project: 'demo', from: '2026-03-01', to: '2026-04-01', limit: '5' };
    expect(bindReadyParams(topPages, { ...range, filter: 'referrer=google.com' })).toMatchObject({
      filter: 'referrer=google.com',
    });
    // A key the view does not know would answer zeros, not an error, on a range without events: refused here.
    expect(() => bindReadyParams(topPages, { ...range, filter: 'source=google.com' })).toThrow(
      /filter has unknown keys \(source\)/,
    );
    expect(bindReadyParams(topPages, { ...range, filter: 'event=Signup&property=plan%3Dpro' })).toMatchObject(
      {
        filter: 'event=Signup&property=plan%3Dpro',
      },
    );
    // A property filter without its name=value form would match no event: refused with the form it takes.
    expect(() => bindReadyParams(topPages, { ...range, filter: 'property=pro' })).toThrow(
      /filter has property=pro, not a property's name=value/,
    );
  });
});
