import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import {
  type ClickHouseClient,
  type ClickHouseClientConfigOptions,
  createClient,
  drainStream,
} from '@clickhouse/client';
import { toInsertError } from './clickhouse-error.js';
import { SinkError } from './errors.js';

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
  /** TLS to the server: a CA certificate to trust, plus a client certificate and key for mutual TLS. */
  tls?: { caCert: Buffer; cert?: Buffer; key?: Buffer };
};

/** The few ClickHouse operations Tidemark needs, identical for the server and chDB. */
export type ClickHouse = {
  /** Which engine answers: `server` over HTTP or `chdb` in-process. */
  backend: 'chdb' | 'server';
  /**
   * Inserts JSONEachRow text as is (no parsing in JavaScript). With `dedupToken`, a second insert with the
   * same token into a table with a deduplication window is a no-op. Rejects with a SinkError whose
   * `retriable` says whether resending the same body can succeed.
   */
  insertJsonEachRow(table: string, body: string, opts?: { dedupToken?: string }): Promise<void>;
  /** Runs a SELECT and returns its rows; `{name:Type}` placeholders are bound from `params` by the engine. */
  query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /** Runs one statement that returns no rows (DDL, SET, …). */
  command(sql: string): Promise<void>;
  /** Releases the connection (and, for chDB, the process's data-directory slot). */
  close(): Promise<void>;
};

const defaultChdbPath = './.data/chdb';
const tableName = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

// libchdb binds one data directory per process (DESIGN §7). We track the bound directory ourselves so that a
// second directory fails at construction with our error, and several clients on the same directory share it.
let chdbSlot: { path: string; users: number } | undefined;

type ChdbModules = {
  connection: typeof import('chdb/connection');
  root: { drainPending(): Promise<void> };
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
    throw new SinkError(
      'CHDB_PATH_IN_USE',
      `chDB is already using ${chdbSlot.path} in this process and binds one data directory per process; ` +
        `close that client before opening ${path}, or run a separate process.`,
    );
  }
  const chdb = loadChdb();
  mkdirSync(path, { recursive: true });
  // chdb types its Connection with @clickhouse/client-common 1.23.0 while @clickhouse/client 1.23.1 bundles
  // its own copy of those types; they differ only in settings typings, so the cast is safe.
  const connection = chdb.connection.createChdbConnection({ path }) as unknown as NonNullable<
    ClickHouseClientConfigOptions['connection']
  >;
  const client = createClient({ connection });
  chdbSlot = chdbSlot ?? { path, users: 0 };
  chdbSlot.users += 1;
  return {
    client,
    async release() {
      if (chdbSlot && chdbSlot.path === path && --chdbSlot.users === 0) {
        chdbSlot = undefined;
        // A session closed while the engine still finishes an aborted query keeps the directory bound;
        // wait so the next createClickHouse (even with another path) finds the slot really free.
        await chdb.root.drainPending();
      }
    },
  };
}

function quote(value: string): string {
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
    if (closed) throw new SinkError('CLICKHOUSE_CLOSED', 'The ClickHouse client is closed.');
  }

  return {
    backend,

    async insertJsonEachRow(table, body, opts = {}) {
      assertOpen();
      if (!tableName.test(table)) {
        throw new SinkError('INVALID_TABLE_NAME', `Not a table name: ${JSON.stringify(table)}`);
      }
      if (body.length === 0) return;
      // The token goes into the statement's SETTINGS clause rather than clickhouse_settings: chDB's
      // connection turns clickhouse_settings into session-wide SET statements, so a token would stick to
      // every later insert of the process and silently deduplicate them away.
      const settings = opts.dedupToken
        ? ` SETTINGS insert_deduplication_token = ${quote(opts.dedupToken)}`
        : '';
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

    async command(sql) {
      assertOpen();
      await client.command({ query: sql });
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
