import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import {
  type ClickHouseClient,
  type ClickHouseClientConfigOptions,
  ClickHouseLogLevel,
  createClient,
  drainStream,
} from '@clickhouse/client';
import { type ChdbAccess, chdbAccessArgs } from './chdbAccess.js';
import { toInsertError } from './clickhouseError.js';
import { StoreError } from './errors.js';

/** Where ClickHouse lives: a server when `url` is set, otherwise chDB in this process. */
export type ClickHouseConfig = {
  /** ClickHouse server HTTP(S) endpoint, e.g. `http://localhost:8123`. Unset: chDB in-process. */
  url?: string;
  /** Server user (`CLICKHOUSE_USER`); the server's `default` user when unset. */
  username?: string;
  /** Server password (`CLICKHOUSE_PASSWORD`). */
  password?: string;
  /** chDB data directory (`TIDEMARK_CHDB_PATH`), created if missing; `./.data/chdb` when unset. */
  chdbPath?: string;
  /**
   * Default database for unqualified names in your own queries (server only). Tidemark's SQL always names
   * `tidemark.` explicitly, so this never changes where events go.
   */
  database?: string;
  /** How long the client waits for a server's answer (server only); @clickhouse/client's 30 s when unset. */
  requestTimeoutMs?: number;
  /**
   * False: @clickhouse/client logs nothing of its own (server only). For a caller that answers every failure
   * itself, such as the read API, where a user's bad query would otherwise print a multi-line ERROR to stderr.
   */
  clientLogs?: boolean;
  /**
   * chDB only: the grants of the engine's one user in this process (chdbAccess.ts). `writer` (the default):
   * the analytics database and nothing outside it, no files, URLs or other servers. The engine takes them when
   * the process first opens its data directory; a later client asking for other grants is refused.
   */
  chdbAccess?: ChdbAccess;
  /** TLS to the server: a CA certificate to trust, plus a client certificate and key for mutual TLS. */
  tls?: { caCert: Buffer; cert?: Buffer; key?: Buffer };
};

/** The few ClickHouse operations Tidemark needs, identical for the server and chDB. */
export type ClickHouse = {
  /** Which engine answers: `server` over HTTP or `chdb` in-process. */
  backend: 'chdb' | 'server';
  /**
   * Inserts JSONEachRow text as is (no parsing in JavaScript). With `dedupToken`, a second insert with the
   * same token into a table with a deduplication window is a no-op. Rejects with a StoreError whose
   * `retriable` says whether resending the same body can succeed.
   */
  insertJsonEachRow(table: string, body: string, opts?: { dedupToken?: string }): Promise<void>;
  /** Runs a SELECT and returns its rows; `{name:Type}` placeholders are bound from `params` by the engine. */
  query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /**
   * Runs one read statement with settings that hold for this statement only, and answers its columns, its
   * rows as arrays (ClickHouse's JSONCompact: 64-bit integers as strings) and what it read. For the read API.
   */
  read(sql: string, opts?: ReadOptions): Promise<ReadResult>;
  /** Runs one statement that returns no rows (DDL, SET, DELETE, INSERT … SELECT); `params` bind its placeholders. */
  command(sql: string, params?: Record<string, unknown>): Promise<void>;
  /** Releases the connection (and, for chDB, the process's data-directory slot). */
  close(): Promise<void>;
};

/** Per-statement options of `read`. */
export type ReadOptions = {
  /** Values for the statement's `{name:Type}` placeholders. */
  params?: Record<string, unknown>;
  /** ClickHouse settings for this statement only (`readonly`, `max_execution_time`, …). */
  settings?: Record<string, string | number>;
  /** Aborts the request (server) or the engine's query (chDB). */
  signal?: AbortSignal;
};

/** What `read` answers. */
export type ReadResult = {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  /** Rows the engine read to answer (ClickHouse's `statistics.rows_read`). */
  rowsRead: number;
  /** The engine's own time for the statement, in milliseconds. */
  elapsedMs: number;
};

const defaultChdbPath = './.data/chdb';
const settingName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const tableName = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

// libchdb binds one data directory per process (DESIGN §7). We track the bound directory ourselves so that a
// second directory fails at construction with our error, and several clients on the same directory share it.
let chdbSlot: { path: string; access: ChdbAccess; users: number; holder: { close(): void } } | undefined;

type ChdbModules = {
  connection: typeof import('chdb/connection');
  root: {
    drainPending(): Promise<void>;
    Session: new (path: string, opts?: { connectionArgs?: string[] }) => { close(): void };
  };
};
let chdbModules: ChdbModules | undefined;

// chDB is loaded on first use only: it is a large native library that the server backend never needs.
function loadChdb(): ChdbModules {
  if (!chdbModules) {
    const require = createRequire(import.meta.url);
    chdbModules = { connection: require('chdb/connection'), root: require('chdb') };
  }
  return chdbModules;
}

function openChdb(config: ClickHouseConfig): { client: ClickHouseClient; release(): Promise<void> } {
  const path = resolve(config.chdbPath ?? defaultChdbPath);
  if (chdbSlot && chdbSlot.path !== path) {
    throw new StoreError(
      'chdb_path_in_use',
      `chDB is already using ${chdbSlot.path} in this process and binds one data directory per process; ` +
        `close that client before opening ${path}, or run a separate process.`,
    );
  }
  const access = config.chdbAccess ?? 'writer';
  if (chdbSlot && chdbSlot.access !== access) {
    throw new StoreError(
      'chdb_path_in_use',
      `chDB is open in this process with ${chdbSlot.access} grants; the engine takes its grants once, so a client ` +
        `asking for ${access} grants needs a separate process.`,
    );
  }
  const chdb = loadChdb();
  mkdirSync(path, { recursive: true });
  // The engine reads its configuration when the process first opens the directory, and only then: this session
  // opens it with the grants and stays open as long as any client of the directory does.
  const holder =
    chdbSlot?.holder ?? new chdb.root.Session(path, { connectionArgs: chdbAccessArgs(path, access) });
  // chdb types its Connection with @clickhouse/client-common 1.23.0 while @clickhouse/client 1.23.1 bundles
  // its own copy of those types; they differ only in settings typings, so the cast is safe.
  const connection = chdb.connection.createChdbConnection({ path }) as unknown as NonNullable<
    ClickHouseClientConfigOptions['connection']
  >;
  const client = createClient({ connection });
  chdbSlot = chdbSlot ?? { path, access, users: 0, holder };
  chdbSlot.users += 1;
  return {
    client,
    async release() {
      if (chdbSlot && chdbSlot.path === path && --chdbSlot.users === 0) {
        chdbSlot = undefined;
        holder.close();
        // A session closed while the engine still finishes an aborted query keeps the directory bound;
        // wait so the next createClickHouse (even with another path) finds the slot really free.
        await chdb.root.drainPending();
      }
    },
  };
}

/** `value` as a ClickHouse string literal. */
export function quote(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** Creates the ClickHouse client for either backend (DESIGN §1): the same calls run on both. */
export function createClickHouse(config: ClickHouseConfig): ClickHouse {
  const backend = config.url ? 'server' : 'chdb';
  const opened =
    backend === 'server'
      ? {
          client: createClient({
            url: config.url,
            username: config.username,
            password: config.password,
            database: config.database,
            application: 'tidemark-sink',
            ...(config.requestTimeoutMs ? { request_timeout: config.requestTimeoutMs } : {}),
            ...(config.clientLogs === false ? { log: { level: ClickHouseLogLevel.OFF } } : {}),
            ...(config.tls
              ? {
                  tls:
                    config.tls.cert && config.tls.key
                      ? { ca_cert: config.tls.caCert, cert: config.tls.cert, key: config.tls.key }
                      : { ca_cert: config.tls.caCert },
                }
              : {}),
          }),
          release: async () => {},
        }
      : openChdb(config);
  const { client } = opened;
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new StoreError('clickhouse_closed', 'The ClickHouse client is closed.');
  }

  let readQueue: Promise<unknown> = Promise.resolve();

  async function readOnce(sql: string, opts: ReadOptions): Promise<ReadResult> {
    const settings = opts.settings ?? {};
    for (const name of Object.keys(settings)) {
      if (!settingName.test(name)) throw new StoreError('config_invalid', `Not a setting name: ${name}`);
    }
    // chDB's connection turns clickhouse_settings into session-wide SET statements, which would outlive this
    // statement (and, on a shared session, reach the writer's inserts). A SETTINGS clause holds for this
    // statement only; the newline keeps it out of a trailing `--` comment. The server gets them per request.
    const clause = Object.entries(settings)
      .map(([name, value]) => `${name} = ${typeof value === 'number' ? value : quote(value)}`)
      .join(', ');
    const query = backend === 'chdb' && clause !== '' ? `${sql}\nSETTINGS ${clause}` : sql;
    let body: {
      meta: { name: string; type: string }[];
      data: unknown[][];
      statistics?: { elapsed?: number; rows_read?: number };
    };
    try {
      const result = await client.query({
        query,
        format: 'JSONCompact',
        ...(opts.params ? { query_params: opts.params } : {}),
        ...(opts.signal ? { abort_signal: opts.signal } : {}),
        // wait_end_of_query: the server answers after the statement ran, so a limit it hits is an HTTP error,
        // not a 200 whose body breaks off.
        ...(backend === 'server' ? { clickhouse_settings: { ...settings, wait_end_of_query: 1 } } : {}),
      });
      // The client types json() per format family; JSONCompact is one document of this shape.
      body = (await result.json()) as unknown as typeof body;
    } catch (err) {
      // chdb 3.4: a statement that fails after it began writing its output (a result over max_result_rows)
      // leaves that output in the session, and the session's next answer starts with it (measured: `SELECT 1`
      // after such a failure returned two JSON documents). One throwaway statement takes it.
      if (backend === 'chdb')
        await client.query({ query: 'SELECT 1', format: 'CSV' }).then(
          (r) => r.text(),
          () => '',
        );
      throw err;
    }
    return {
      columns: body.meta,
      rows: body.data,
      rowsRead: Number(body.statistics?.rows_read ?? 0),
      elapsedMs: Math.round((body.statistics?.elapsed ?? 0) * 1000 * 1000) / 1000,
    };
  }

  return {
    backend,

    async insertJsonEachRow(table, body, opts = {}) {
      assertOpen();
      if (!tableName.test(table)) {
        throw new StoreError('invalid_table_name', `Not a table name: ${JSON.stringify(table)}`);
      }
      if (body.length === 0) return;
      // The token goes into the statement's SETTINGS clause rather than clickhouse_settings: chDB's
      // connection turns clickhouse_settings into session-wide SET statements, so a token would stick to
      // every later insert of the process and silently deduplicate them away.
      // distributed_foreground_insert: on a cluster (a Distributed table) the insert returns once every shard
      // has its rows, not once they are queued on the node that took them, so what the caller records after it
      // (the ids of tidemark.event_ids, a Kafka commit) is true (docs/cluster.md). A plain table ignores it.
      const settings =
        ' SETTINGS distributed_foreground_insert = 1' +
        (opts.dedupToken ? `, insert_deduplication_token = ${quote(opts.dedupToken)}` : '');
      try {
        // exec passes the body through untouched: chDB's parser (or the server) reads it, not JavaScript.
        const result = await client.exec({
          query: `INSERT INTO ${table}${settings} FORMAT JSONEachRow`,
          values: Readable.from([body]),
        });
        await drainStream(result.stream);
      } catch (err) {
        throw toInsertError(table, err);
      }
    },

    async query<T>(sql: string, params?: Record<string, unknown>) {
      assertOpen();
      const result = await client.query({ query: sql, format: 'JSONEachRow', query_params: params });
      return result.json<T>();
    },

    async read(sql, opts = {}) {
      assertOpen();
      if (backend === 'server') return readOnce(sql, opts);
      // chDB runs one session's statements one after another anyway; queueing them here keeps the output a
      // failed read leaves behind (below) from landing in a neighbour's answer.
      const run = readQueue.then(
        () => readOnce(sql, opts),
        () => readOnce(sql, opts),
      );
      readQueue = run.catch(() => {});
      return run;
    },

    async command(sql, params) {
      assertOpen();
      await client.command({ query: sql, ...(params === undefined ? {} : { query_params: params }) });
    },

    async close() {
      if (closed) return;
      closed = true;
      try {
        await client.close();
      } finally {
        await opened.release();
      }
    },
  };
}
