import { QueryError } from './errors.js';
import { filterKeys, type LoadedQuery, paramDefaults } from './library.js';

/** Values with a closed set, checked here so a typo fails with our error instead of a ClickHouse one. */
const allowed: Record<string, readonly string[]> = {
  interval: ['hour', 'day', 'week', 'month'],
  metric: ['', 'LCP', 'INP', 'CLS', 'FCP', 'TTFB'],
};

const dateTime = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,3})?$/;

/**
 * Checks `values` against the query's placeholders and returns what `query_params` (@clickhouse/client) or
 * `param_<name>` (HTTP) takes: every placeholder bound, optional ones defaulted, dates as UTC text.
 * Refuses missing and unknown names and values that do not fit the placeholder's type.
 */
export function bindParams(
  query: LoadedQuery,
  values: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const declared = new Set(query.params.map((p) => p.name));
  for (const name of Object.keys(values)) {
    if (!declared.has(name) && values[name] !== undefined) {
      throw new QueryError('unknown_param', `${query.name} takes no parameter ${name}.`);
    }
  }
  const bound: Record<string, unknown> = {};
  for (const { name, type } of query.params) {
    const value = values[name] ?? paramDefaults[name];
    if (value === undefined)
      throw new QueryError('missing_param', `${query.name} needs the parameter ${name}.`);
    bound[name] = convert(query.name, name, type, value);
  }
  return bound;
}

function convert(query: string, name: string, type: string, value: unknown): unknown {
  const invalid = (why: string) => new QueryError('invalid_param', `${query}: ${name} ${why}.`);
  if (type === 'String') {
    if (typeof value !== 'string') throw invalid('must be a string');
    const values = allowed[name];
    if (values && !values.includes(value)) throw invalid(`must be one of ${values.join(', ') || "''"}`);
    // ClickHouse checks the zone's name itself; an empty one would only fail with a less helpful message.
    if (name === 'timezone' && value === '') throw invalid("must name a time zone, e.g. 'UTC'");
    const problem = name === 'filter' ? filterProblem(value) : undefined;
    if (problem !== undefined) throw invalid(problem);
    return value;
  }
  if (type === 'UInt32') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
      throw invalid('must be an integer from 0 to 4294967295');
    }
    return value;
  }
  if (type.startsWith('DateTime64(')) {
    // ClickHouse reads the text in the placeholder's time zone (UTC); a Date is written out in UTC to match.
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) throw invalid('is an invalid Date');
      return value.toISOString().replace('T', ' ').replace('Z', '');
    }
    if (typeof value !== 'string' || !dateTime.test(value)) {
      throw invalid("must be a Date or 'YYYY-MM-DD hh:mm:ss[.sss]' (UTC)");
    }
    return value;
  }
  if (type === 'Array(String)') {
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      throw invalid('must be an array of strings');
    }
    // funnel.sql has eight step slots (windowFunnel takes one condition per step).
    if (name === 'steps' && (value.length < 1 || value.length > 8)) throw invalid('must hold 1 to 8 steps');
    return value;
  }
  throw new QueryError('query_file_invalid', `${query}: no binding for ${name} of type ${type}.`);
}

/**
 * What is wrong with a `filter` (a URL query string of known keys, each once; `property` as name=value), or
 * undefined when nothing is.
 * store/sql/views/01_filtered_sessions.sql refuses the rest too, but only once it reads an event.
 */
export function filterProblem(value: string): string | undefined {
  const keys = [...new URLSearchParams(value).keys()];
  const known: readonly string[] = filterKeys;
  const unknown = keys.filter((k) => !known.includes(k));
  if (unknown.length > 0)
    return `has unknown keys (${unknown.join(', ')}); the keys are ${filterKeys.join(', ')}`;
  if (new Set(keys).size !== keys.length) return 'names a key twice';
  const property = new URLSearchParams(value).get('property');
  if (property !== null && !(property.indexOf('=') > 0)) {
    return `has property=${property}, not a property's name=value (plan=pro, URL-encoded as plan%3Dpro)`;
  }
  return undefined;
}
