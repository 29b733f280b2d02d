import { GatewayError } from '../errors.js';

/** A `{name:Type}` placeholder of a ready query. */
export interface ReadyQueryParam {
  name: string;
  /** The ClickHouse type of the placeholder, e.g. `String`, `UInt32`, `DateTime64(3, 'UTC')`, `Array(String)`. */
  type: string;
  /** The value (as URL text) used when the request leaves the parameter out; without one it is required. */
  default?: string;
  /** What is wrong with a value beyond its type (e.g. a `filter`'s keys), or undefined when nothing is. */
  check?: (value: string) => string | undefined;
}

/**
 * A documented query run by name (`GET /v1/queries/:name`). The shape of the query library's loaded files
 * (`queries/`, name, SQL text and placeholders), so its loader plugs in as the gateway's `ReadyQueryLoader`.
 */
export interface ReadyQuery {
  /** URL-safe name: lowercase letters, digits, `_`. */
  name: string;
  /** The statement, with `{name:Type}` placeholders; trusted (it ships with Tidemark), so not statement-checked. */
  sql: string;
  /** The same statement for a `filter` of '' (the query library's `unfilteredSql`): run instead of `sql` then. */
  unfilteredSql?: string;
  params: readonly ReadyQueryParam[];
  /** One line for the listing. */
  description?: string;
}

/** Where the ready queries come from; called once at start. */
export type ReadyQueryLoader = () => Promise<readonly ReadyQuery[]>;

/**
 * The query library (`queries/`, @tidemark/queries): every query of it, read at start. Imported when called, so
 * the compiled gateway keeps it in a chunk of its own (see build.mjs for where its `.sql` files go).
 */
export const libraryQueries: ReadyQueryLoader = async () => {
  const { filterProblem, loadQuery, queryNames } = await import('@tidemark/queries');
  const queries = await Promise.all(queryNames.map((name) => loadQuery(name)));
  return queries.map((q) => ({
    ...q,
    params: q.params.map((p) => (p.name === 'filter' ? { ...p, check: filterProblem } : p)),
  }));
};

/** The values of a request's query string: one string, or several for a repeated name. */
export type UrlValues = Readonly<Record<string, string | string[] | undefined>>;

const queryName = /^[a-z0-9_]+$/;

/**
 * Checks the queries once at start, so a query with a placeholder type the binder cannot read fails the start,
 * not its first request.
 */
export function checkReadyQueries(queries: readonly ReadyQuery[]): Map<string, ReadyQuery> {
  const byName = new Map<string, ReadyQuery>();
  for (const query of queries) {
    if (!queryName.test(query.name))
      throw new Error(`ready query name ${JSON.stringify(query.name)} is not URL-safe`);
    if (byName.has(query.name)) throw new Error(`two ready queries are named ${query.name}`);
    for (const param of query.params) {
      if (converterFor(param.type) === undefined) {
        throw new Error(`ready query ${query.name}: no binding for ${param.name} of type ${param.type}`);
      }
    }
    byName.set(query.name, query);
  }
  return byName;
}

/**
 * Turns a request's query string into the query's `query_params`: each value read as its placeholder's type,
 * defaults filled in. A missing, unknown or unreadable parameter is a 400 `invalid_param` that names it.
 */
export function bindReadyParams(query: ReadyQuery, values: UrlValues): Record<string, unknown> {
  const declared = new Set(query.params.map((p) => p.name));
  const unknown = Object.keys(values).filter((name) => !declared.has(name));
  if (unknown.length > 0) {
    // A typo (`form=` for `from=`) would otherwise run the query with a default and answer the wrong numbers.
    throw invalid(
      unknown[0] as string,
      `${query.name} takes no parameter ${unknown.join(', ')}; it takes ${[...declared].join(', ') || 'none'}.`,
    );
  }
  const bound: Record<string, unknown> = {};
  for (const param of query.params) {
    const given = values[param.name];
    const raw = given ?? param.default;
    if (raw === undefined)
      throw invalid(param.name, `${query.name} needs the parameter ${param.name} (${param.type}).`);
    const convert = converterFor(param.type) as Converter;
    const result = convert(raw);
    if (typeof result === 'object' && result !== null && 'problem' in result) {
      throw invalid(param.name, `${param.name} must be ${result.problem}.`);
    }
    const problem = typeof result === 'string' ? param.check?.(result) : undefined;
    if (problem !== undefined) throw invalid(param.name, `${param.name} ${problem}.`);
    bound[param.name] = result;
  }
  return bound;
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_param', { message, details: { param } });
}

type Converted = unknown | { problem: string };
type Converter = (raw: string | string[]) => Converted;

const integerRanges: Record<string, [bigint, bigint]> = {
  UInt8: [0n, 255n],
  UInt16: [0n, 65_535n],
  UInt32: [0n, 4_294_967_295n],
  UInt64: [0n, 18_446_744_073_709_551_615n],
  Int8: [-128n, 127n],
  Int16: [-32_768n, 32_767n],
  Int32: [-2_147_483_648n, 2_147_483_647n],
  Int64: [-9_223_372_036_854_775_808n, 9_223_372_036_854_775_807n],
};

const isoDate = /^\d{4}-\d{2}-\d{2}$/;
const time = '([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d';
const clickhouseDateTime = new RegExp(`^(\\d{4}-\\d{2}-\\d{2}) ${time}(\\.\\d{1,9})?$`);
const isoDateTime = new RegExp(`^(\\d{4}-\\d{2}-\\d{2})T${time}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$`);

/** Whether `YYYY-MM-DD` is a day of the calendar (Date.parse takes 2026-02-30 as 2 March). */
function isDay(ymd: string): boolean {
  const ms = Date.parse(`${ymd}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(ymd);
}

/** The reader of one ClickHouse type from URL text, or undefined when the binder has none. */
function converterFor(type: string): Converter | undefined {
  const inner = /^(?:Nullable|LowCardinality)\((.+)\)$/.exec(type)?.[1];
  if (inner) return converterFor(inner);
  const array = /^Array\((.+)\)$/.exec(type)?.[1];
  if (array) {
    const item = converterFor(array);
    if (!item) return undefined;
    // A repeated name is an array: `?steps=/&steps=/pricing`.
    return (raw) => {
      const items = (Array.isArray(raw) ? raw : [raw]).map((v) => item(v));
      const bad = items.find((v) => typeof v === 'object' && v !== null && 'problem' in v) as
        | { problem: string }
        | undefined;
      return bad ? { problem: `a list (repeat the name) whose items are each ${bad.problem}` } : items;
    };
  }
  const single =
    (read: (value: string) => Converted): Converter =>
    (raw) =>
      Array.isArray(raw) ? { problem: 'given once' } : read(raw);
  if (type === 'String') return single((v) => v);
  if (type === 'Bool') {
    return single((v) =>
      v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : { problem: 'true or false' },
    );
  }
  const range = integerRanges[type];
  if (range) {
    return single((v) => {
      if (!/^-?\d+$/.test(v) || BigInt(v) < range[0] || BigInt(v) > range[1]) {
        return { problem: `an integer from ${range[0]} to ${range[1]} (${type})` };
      }
      return Number.isSafeInteger(Number(v)) ? Number(v) : v;
    });
  }
  if (type === 'Float32' || type === 'Float64') {
    return single((v) =>
      v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : { problem: 'a number' },
    );
  }
  if (type === 'Date' || type === 'Date32') {
    return single((v) =>
      isoDate.test(v) && !Number.isNaN(Date.parse(v)) ? v : { problem: 'a date, YYYY-MM-DD' },
    );
  }
  if (/^DateTime(64)?(\(.*\))?$/.test(type)) return single(readDateTime);
  return undefined;
}

/**
 * A point in time as the placeholder reads it: `YYYY-MM-DD hh:mm:ss[.fff]` is passed on as is (read in the
 * placeholder's time zone, UTC for the events table); an ISO 8601 time with `Z` or an offset, or a bare date,
 * is written out in UTC.
 */
function readDateTime(value: string): Converted {
  const problem = {
    problem: "a time: 'YYYY-MM-DD hh:mm:ss[.sss]' (UTC), ISO 8601 with Z or an offset, or YYYY-MM-DD",
  };
  const plain = clickhouseDateTime.exec(value);
  if (plain) return isDay(plain[1] as string) ? value : problem;
  const iso = isoDateTime.exec(value);
  if (iso) return isDay(iso[1] as string) ? utc(Date.parse(value)) : problem;
  return isoDate.test(value) && isDay(value) ? utc(Date.parse(`${value}T00:00:00Z`)) : problem;
}

/** ClickHouse's DateTime64(3) text in UTC. */
function utc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
