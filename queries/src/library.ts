import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { QueryError } from './errors.js';

/** A time bucket for the `*_over_time` queries and retention periods; weeks start on Monday. */
export type Interval = 'hour' | 'day' | 'week' | 'month';

/** What every query takes: whose events, and when. */
export type RangeParams = {
  /** Project id (the one the write key belongs to). */
  project: string;
  /** Start of the range, included. A string is read as UTC: `2026-03-01 00:00:00` or with `.123` ms. */
  from: Date | string;
  /** End of the range, excluded. */
  to: Date | string;
};

/** Optional filters every query takes; left out (or '') means no filter. */
export type FilterParams = {
  /** Only events on this host. */
  host?: string;
  /** Only events from this country code (ISO 3166-1 alpha-2). */
  country?: string;
  /** Only events from this device type (`desktop`, `mobile`, `tablet`, …). */
  device_type?: string;
  /**
   * More filters, each keeping the sessions that match it, as a URL query string: `page=%2Fpricing&browser=Firefox`
   * (`filterString` builds one). Keys: page (viewed it), entry_page, exit_page, referrer, utm_source, utm_medium,
   * utm_campaign (of the session's first page view), browser, os, event (sent that custom event), property
   * (`plan=pro`: sent a track event, the `event` one when set, whose property `plan` is `pro`); see
   * store/sql/views/01_filtered_sessions.sql. Set, the query reads the kept sessions' rows of the rollups that keep
   * the session (store/sql/041_session_values.sql, session_hours), and tidemark.events where none does.
   */
  filter?: string;
};

/** The keys of `FilterParams.filter`. */
export const filterKeys = [
  'page',
  'entry_page',
  'exit_page',
  'referrer',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'browser',
  'os',
  'event',
  'property',
] as const;
export type FilterKey = (typeof filterKeys)[number];

/** `FilterParams.filter` from its keys and values, in the order of `filterKeys`; '' for none. */
export function filterString(filters: Partial<Record<FilterKey, string>>): string {
  const params = new URLSearchParams();
  for (const key of filterKeys) {
    const value = filters[key];
    if (value !== undefined) params.set(key, value);
  }
  return params.toString();
}

type Common = RangeParams & FilterParams;
/** How many rows a list query returns. */
type Limit = { limit: number };
/** Where the buckets' days begin: an IANA time zone (`Europe/Berlin`); `UTC` when left out. */
type Zoned = { timezone?: string };

/**
 * Who a funnel or retention counts: `person` (the default) joins a person's devices and log-ins
 * (store/sql/030_person_links.sql); `visitor` counts each anonymous id.
 */
type CountBy = { count_by?: 'person' | 'visitor' };

/** Each query's parameters, by query name: the file `queries/<name>.sql` declares the same placeholders. */
export type QueryParams = {
  overview: Common;
  visitors_over_time: Common & Zoned & { interval: Interval };
  sessions_over_time: Common & Zoned & { interval: Interval };
  session_duration: Common;
  top_pages: Common & Limit;
  entry_pages: Common & Limit;
  exit_pages: Common & Limit;
  referrers: Common & Limit;
  utm_campaigns: Common & Limit;
  browsers: Common & Limit;
  operating_systems: Common & Limit;
  devices: Common & Limit;
  countries: Common & Limit;
  custom_events: Common & Limit;
  /** `event`: a track event's name; `limit`: values per property. */
  event_properties: Common & Limit & { event: string };
  /** `steps`: 1 to 8; '/path' is a page view, anything else a track event name. `window`: seconds. */
  funnel: Common & { steps: readonly string[]; window: number } & CountBy;
  retention: Common & Zoned & { interval: Exclude<Interval, 'hour'> } & CountBy;
  /** One person's events across devices: `person` is a user id, or an anonymous id never identified. */
  person_events: RangeParams & Limit & { person: string };
  /** `metric`: LCP, INP, CLS, FCP or TTFB, or '' for all five. */
  web_vitals: Common & Limit & { metric: '' | 'LCP' | 'INP' | 'CLS' | 'FCP' | 'TTFB' };
  /** No range: the last `minutes` before the server's clock says now. */
  active_visitors: Pick<RangeParams, 'project'> & FilterParams & { minutes: number };
};

/** The name of a query in the library. */
export type QueryName = keyof QueryParams;

/** Every query in the library, in the order the README lists them. */
export const queryNames: readonly QueryName[] = [
  'overview',
  'visitors_over_time',
  'sessions_over_time',
  'session_duration',
  'top_pages',
  'entry_pages',
  'exit_pages',
  'referrers',
  'utm_campaigns',
  'browsers',
  'operating_systems',
  'devices',
  'countries',
  'custom_events',
  'event_properties',
  'funnel',
  'retention',
  'person_events',
  'web_vitals',
  'active_visitors',
];

/** Parameters that may be left out, and what they are then: the filters mean "no filter", buckets are UTC. */
export const paramDefaults: Readonly<Record<string, string>> = {
  host: '',
  country: '',
  device_type: '',
  filter: '',
  timezone: 'UTC',
  count_by: 'person',
};

/**
 * A `{name:Type}` placeholder of a query, as ClickHouse binds it; `default` is the value of an optional one left
 * out (the read API's binder and `bindParams` fill it in).
 */
export type QueryParam = { name: string; type: string; default?: string };

/** A query file, read and checked. */
export type LoadedQuery = {
  name: QueryName;
  /** The file's text as is: what a ClickHouse client runs. */
  sql: string;
  /** Its placeholders, each name once, in order of first use. */
  params: QueryParam[];
  /**
   * For a query with a `filter`: the same statement reading the views' no-filter twins
   * (`tidemark.<view>_unfiltered`, store/src/migrationRender.ts), to run when `filter` is ''. Same answer, planned
   * in less time: ClickHouse plans every subquery a statement names, the filtered sessions' too, before it folds
   * them away. `statementFor` picks the text.
   */
  unfilteredSql?: string;
};

/** The folder holding the `.sql` files: this package's root. */
export const queriesDir = fileURLToPath(new URL('../', import.meta.url));

// A placeholder starting exactly at lastIndex; its type may hold quotes, as in DateTime64(3, 'UTC').
const placeholderAt = /\{([A-Za-z_][A-Za-z0-9_]*):([^{}]+)\}/y;

/**
 * The placeholders of a query. Comments and string literals are skipped, as ClickHouse skips them, so a header
 * may show `{name:Type}` as an example without declaring it (our files use `--` comments only). The same name
 * with two types is refused: ClickHouse would bind one value to both.
 */
export function parseParams(sql: string): QueryParam[] {
  const params = new Map<string, string>();
  let quoted = false;
  for (let i = 0; i < sql.length; i += 1) {
    const ch = sql[i];
    if (quoted) {
      if (ch === '\\') i += 1;
      else if (ch === "'") quoted = false;
    } else if (ch === "'") {
      quoted = true;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
    } else if (ch === '{') {
      placeholderAt.lastIndex = i;
      const match = placeholderAt.exec(sql);
      if (!match) continue;
      const [whole, name, rawType] = match as unknown as [string, string, string];
      const type = rawType.trim();
      const seen = params.get(name);
      if (seen !== undefined && seen !== type) {
        throw new QueryError(
          'query_file_invalid',
          `Parameter ${name} is declared as ${seen} and as ${type}.`,
        );
      }
      params.set(name, type);
      i += whole.length - 1;
    }
  }
  return [...params].map(([name, type]) => ({ name, type }));
}

/** Whether `name` is a query of the library (for input from outside, e.g. a URL segment). */
export function isQueryName(name: string): name is QueryName {
  return (queryNames as readonly string[]).includes(name);
}

/** Reads `<dir>/<name>.sql` and its placeholders. `dir` defaults to this package's folder. */
export async function loadQuery(name: QueryName, dir: string = queriesDir): Promise<LoadedQuery> {
  if (!isQueryName(name)) throw new QueryError('unknown_query', `No query named ${JSON.stringify(name)}.`);
  let sql: string;
  try {
    sql = await readFile(`${dir.replace(/\/?$/, '/')}${name}.sql`, 'utf8');
  } catch (err) {
    throw new QueryError('query_file_invalid', `Cannot read the query ${name}.`, { cause: err });
  }
  const params = parseParams(sql).map((param) =>
    param.name in paramDefaults ? { ...param, default: paramDefaults[param.name] } : param,
  );
  return params.some((p) => p.name === 'filter')
    ? { name, sql, params, unfilteredSql: unfilteredStatement(sql) }
    : { name, sql, params };
}

// A view of the store called with the query's filter: `tidemark.traffic_rows(` … `filter = {filter:String}`.
const viewCall = /\btidemark\.(\w+)\(/g;

/**
 * `sql` with each view it calls with `filter = {filter:String}` replaced by the view's no-filter twin. A call's
 * arguments end at its closing parenthesis (our files put no parenthesis in a string argument).
 */
export function unfilteredStatement(sql: string): string {
  return sql.replace(viewCall, (call, name: string, at: number) => {
    let depth = 0;
    let end = at + call.length - 1;
    for (; end < sql.length; end += 1) {
      if (sql[end] === '(') depth += 1;
      else if (sql[end] === ')' && --depth === 0) break;
    }
    return /\bfilter\s*=\s*\{filter:String\}/.test(sql.slice(at, end))
      ? `tidemark.${name}_unfiltered(`
      : call;
  });
}

/** The statement to run for `query` with `params`: its no-filter form when the filter is '' or left out. */
export function statementFor(query: Pick<LoadedQuery, 'sql' | 'unfilteredSql'>, params: object): string {
  const filter = (params as { filter?: unknown }).filter;
  return query.unfilteredSql !== undefined && (filter === undefined || filter === '')
    ? query.unfilteredSql
    : query.sql;
}
