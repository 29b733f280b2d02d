import { bindParams } from './bind.js';
import {
  type LoadedQuery,
  loadQuery,
  type QueryName,
  type QueryParams,
  queriesDir,
  statementFor,
} from './library.js';

/**
 * Anything that runs a SELECT with `{name:Type}` parameters bound by the engine. @tidemark/sink's
 * `createClickHouse()` fits (server or chDB); so does a thin wrapper over @clickhouse/client.
 */
export type QueryRunner = {
  query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
};

/** Options of `runQuery`. */
export type RunOptions = {
  /** Where the `.sql` files are; this package's folder by default. */
  dir?: string;
};

// A query file does not change while the process runs; read each once.
const cache = new Map<string, Promise<LoadedQuery>>();

function cachedLoad(name: QueryName, dir: string): Promise<LoadedQuery> {
  const key = `${dir}\0${name}`;
  let loaded = cache.get(key);
  if (!loaded) {
    loaded = loadQuery(name, dir);
    cache.set(key, loaded);
    // A failed read is not remembered, so a fixed file is picked up on the next call.
    loaded.catch(() => cache.delete(key));
  }
  return loaded;
}

/**
 * Runs the library's query `name` with typed parameters and returns its rows as ClickHouse's JSONEachRow
 * gives them. Counts are 64-bit integers: a ClickHouse server quotes them (strings) unless the setting
 * output_format_json_quote_64bit_integers is 0, chDB does not (numbers), so read them with `Number()`.
 * Parameters are checked before anything is sent.
 */
export async function runQuery<N extends QueryName, Row = Record<string, unknown>>(
  runner: QueryRunner,
  name: N,
  params: QueryParams[N],
  opts: RunOptions = {},
): Promise<Row[]> {
  const query = await cachedLoad(name, opts.dir ?? queriesDir);
  const bound = bindParams(query, params);
  return runner.query<Row>(statementFor(query, bound), bound);
}
