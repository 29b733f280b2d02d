import { describe, expect, it } from 'vitest';
import { bindParams } from './bind.js';
import { QueryError } from './errors.js';
import {
  filterString,
  type LoadedQuery,
  loadQuery,
  parseParams,
  queryNames,
  statementFor,
  unfilteredStatement,
} from './library.js';

const range = ['project', 'from', 'to', 'host', 'country', 'device_type', 'filter'];

// What each query declares, written out once more by hand: a placeholder added to or dropped from a file
// without updating QueryParams (library.ts) and the header fails here.
const declared: Record<(typeof queryNames)[number], string[]> = {
  overview: range,
  visitors_over_time: [...range, 'interval', 'timezone'],
  sessions_over_time: [...range, 'interval', 'timezone'],
  session_duration: range,
  top_pages: [...range, 'limit'],
  entry_pages: [...range, 'limit'],
  exit_pages: [...range, 'limit'],
  referrers: [...range, 'limit'],
  utm_campaigns: [...range, 'limit'],
  browsers: [...range, 'limit'],
  operating_systems: [...range, 'limit'],
  devices: [...range, 'limit'],
  countries: [...range, 'limit'],
  custom_events: [...range, 'limit'],
  event_properties: [...range, 'event', 'limit'],
  funnel: [...range, 'steps', 'window', 'count_by'],
  retention: [...range, 'interval', 'timezone', 'count_by'],
  person_events: ['project', 'from', 'to', 'person', 'limit'],
  web_vitals: [...range, 'metric', 'limit'],
  active_visitors: ['project', 'minutes', 'host', 'country', 'device_type', 'filter'],
};

describe('the query files', () => {
  for (const name of queryNames) {
    it(`${name}.sql declares its parameters and documents each in its header`, async () => {
      const query = await loadQuery(name);
      expect(query.params.map((p) => p.name).sort()).toEqual([...declared[name]].sort());
      const header = query.sql.slice(0, query.sql.search(/^WITH|^SELECT/m));
      for (const { name: param } of query.params) {
        expect(header, `${name}.sql header names ${param}`).toMatch(new RegExp(`--\\s+(\\w+, )?${param}\\b`));
        expect(header, `${name}.sql example passes ${param}`).toContain(`--param_${param}=`);
      }
      expect(header).toContain(`--queries-file queries/${name}.sql`);
    });
  }
});

describe('unfilteredStatement', () => {
  it('swaps each view called with the query filter for its no-filter twin, and nothing else', () => {
    const sql = `SELECT count() FROM tidemark.traffic_rows(project = {project:String}, from = toDateTime64('2026-01-01', 3),
        filter = {filter:String}, dimension = '') AS t
      WHERE t.x IN (SELECT session FROM tidemark.filtered_sessions(project = {project:String}, filter = {filter:String}))
        AND t.y IN (SELECT id FROM tidemark.person_map(project = {project:String}))`;
    const swapped = unfilteredStatement(sql);
    expect(swapped).toContain('tidemark.traffic_rows_unfiltered(project');
    expect(swapped).toContain('tidemark.filtered_sessions_unfiltered(project');
    expect(swapped).toContain('tidemark.person_map(project');
    expect(swapped.replaceAll('_unfiltered(', '(')).toBe(sql);
  });

  it('is what runs when the filter is empty or left out, and every query with a filter has one', async () => {
    for (const name of queryNames) {
      const query = await loadQuery(name);
      if (!query.params.some((p) => p.name === 'filter')) {
        expect(query.unfilteredSql, name).toBeUndefined();
        continue;
      }
      expect(query.unfilteredSql, name).toMatch(/_unfiltered\(/);
      expect(query.unfilteredSql, name).not.toMatch(/tidemark\.filtered_sessions\(/);
      expect(statementFor(query, { filter: '' })).toBe(query.unfilteredSql);
      expect(statementFor(query, {})).toBe(query.unfilteredSql);
      expect(statementFor(query, { filter: 'browser=Firefox' })).toBe(query.sql);
    }
  });
});

describe('parseParams', () => {
  it('reads each placeholder once, with its type, and skips comments and string literals', () => {
    const sql = `-- an example {ignored:String} in a comment
      SELECT '{not:String}', {a:String}, {b:DateTime64(3, 'UTC')} -- {also:UInt8}
      WHERE x = {a:String}`;
    expect(parseParams(sql)).toEqual([
      { name: 'a', type: 'String' },
      { name: 'b', type: "DateTime64(3, 'UTC')" },
    ]);
  });

  it('refuses one name with two types', () => {
    expect(() => parseParams('SELECT {a:String}, {a:UInt32}')).toThrow(QueryError);
  });
});

describe('bindParams', () => {
  const query: LoadedQuery = {
    name: 'funnel',
    sql: '',
    params: [
      { name: 'project', type: 'String' },
      { name: 'from', type: "DateTime64(3, 'UTC')" },
      { name: 'host', type: 'String' },
      { name: 'steps', type: 'Array(String)' },
      { name: 'window', type: 'UInt32' },
      { name: 'interval', type: 'String' },
    ],
  };
  const ok = { project: 'p', from: '2026-03-01 00:00:00', steps: ['/a'], window: 60, interval: 'day' };
  const code = (values: Record<string, unknown>) => {
    try {
      bindParams(query, values);
      return 'bound';
    } catch (err) {
      return err instanceof QueryError ? err.code : String(err);
    }
  };

  it('defaults the optional filters to no filter and writes a Date as UTC text', () => {
    expect(bindParams(query, { ...ok, from: new Date(Date.UTC(2026, 2, 1, 12, 30, 5, 7)) })).toEqual({
      ...ok,
      from: '2026-03-01 12:30:05.007',
      host: '',
    });
  });

  it('refuses a missing parameter and a parameter the query does not take', () => {
    const { project: _, ...noProject } = ok;
    expect(code(noProject)).toBe('missing_param');
    expect(code({ ...ok, device: 'mobile' })).toBe('unknown_param');
  });

  it('refuses values that do not fit the placeholder type or the allowed values', () => {
    expect(code({ ...ok, project: 7 })).toBe('invalid_param');
    expect(code({ ...ok, window: -1 })).toBe('invalid_param');
    expect(code({ ...ok, window: 1.5 })).toBe('invalid_param');
    expect(code({ ...ok, from: '1 March 2026' })).toBe('invalid_param');
    expect(code({ ...ok, from: new Date(Number.NaN) })).toBe('invalid_param');
    expect(code({ ...ok, steps: [] })).toBe('invalid_param');
    expect(code({ ...ok, steps: Array.from({ length: 9 }, () => '/a') })).toBe('invalid_param');
    expect(code({ ...ok, interval: 'fortnight' })).toBe('invalid_param');
    expect(code(ok)).toBe('bound');
  });

  it('takes a filter of known keys, each once, and refuses any other', () => {
    const filtered: LoadedQuery = { name: 'overview', sql: '', params: [{ name: 'filter', type: 'String' }] };
    expect(bindParams(filtered, {})).toEqual({ filter: '' });
    const filter = filterString({ referrer: 'news.ycombinator.com', page: '/a b&c', utm_campaign: '' });
    expect(filter).toBe('page=%2Fa+b%26c&referrer=news.ycombinator.com&utm_campaign=');
    expect(bindParams(filtered, { filter })).toEqual({ filter });
    expect(() => bindParams(filtered, { filter: 'campaign=spring' })).toThrow(/unknown keys \(campaign\)/);
    expect(() => bindParams(filtered, { filter: 'os=Linux&os=iOS' })).toThrow(/names a key twice/);
  });

  it('takes a property filter as name=value, split at the first =, and refuses it without a name', () => {
    const filtered: LoadedQuery = { name: 'overview', sql: '', params: [{ name: 'filter', type: 'String' }] };
    const filter = filterString({ event: 'Signup Started', property: 'formula=a=b' });
    expect(filter).toBe('event=Signup+Started&property=formula%3Da%3Db');
    expect(bindParams(filtered, { filter })).toEqual({ filter });
    expect(bindParams(filtered, { filter: 'property=plan%3D' })).toEqual({ filter: 'property=plan%3D' });
    for (const bad of ['property=pro', 'property=%3Dpro', 'property=']) {
      expect(() => bindParams(filtered, { filter: bad }), bad).toThrow(/not a property's name=value/);
    }
  });

  it('buckets in UTC unless told otherwise, and refuses an empty time zone', () => {
    const zoned: LoadedQuery = { name: 'retention', sql: '', params: [{ name: 'timezone', type: 'String' }] };
    expect(bindParams(zoned, {})).toEqual({ timezone: 'UTC' });
    expect(bindParams(zoned, { timezone: 'Europe/Berlin' })).toEqual({ timezone: 'Europe/Berlin' });
    expect(() => bindParams(zoned, { timezone: '' })).toThrow(QueryError);
  });

  it('reports errors as data: a code, a status and never retriable', () => {
    const err = new QueryError('unknown_query', 'x');
    expect([err.status, err.retriable]).toEqual([404, false]);
    expect(new QueryError('missing_param', 'x').status).toBe(400);
  });
});

it('loadQuery refuses a name outside the library', async () => {
  await expect(loadQuery('../store/sql/001_events' as never)).rejects.toMatchObject({
    code: 'unknown_query',
  });
});
