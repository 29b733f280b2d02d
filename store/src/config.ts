import { readFileSync } from 'node:fs';
import type { ClickHouseConfig } from './clickhouse.js';
import type { MigrateOptions } from './migrate.js';

type Env = Record<string, string | undefined>;

/** Where ClickHouse is and what the migrations make of it, as every Tidemark process reads it. */
export type ClickHouseEnv = {
  /** `CLICKHOUSE_URL` (+ `_USER`, `_PASSWORD`, `_DATABASE`, TLS files), else chDB in `TIDEMARK_CHDB_PATH`. */
  clickhouse: ClickHouseConfig;
  /** `TIDEMARK_CLICKHOUSE_CLUSTER` and `TIDEMARK_EVENTS_TTL_DAYS` (unset: events are kept forever). */
  schema: MigrateOptions;
  /** What is wrong with the environment, one line each; the caller reports them with its own. */
  problems: string[];
};

/**
 * Reads ClickHouse's settings from the environment, the same for the gateway, the sink and the migration CLI.
 * `prefix` reads another connection with the same names behind it: `TIDEMARK_READ_` gives the read API's
 * `TIDEMARK_READ_CLICKHOUSE_URL`, `_USER`, `_PASSWORD`, … (its schema options are not read). Files named by the
 * TLS variables are read here, so a wrong path fails at start rather than at the first insert.
 */
export function loadClickHouseConfig(env: Env, prefix = ''): ClickHouseEnv {
  const problems: string[] = [];
  const value = (name: string) => env[`${prefix}${name}`]?.trim() || undefined;
  const file = (name: string): Buffer | undefined => {
    const path = value(name);
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      problems.push(`${prefix}${name}: cannot read ${path}: ${(err as Error).message}`);
      return undefined;
    }
  };
  // TLS to a server: a CA to trust (https URLs with a private CA), plus a client certificate and key for mutual TLS.
  const caCert = file('CLICKHOUSE_CA_CERT');
  const cert = file('CLICKHOUSE_CLIENT_CERT');
  const key = file('CLICKHOUSE_CLIENT_KEY');
  if ((cert === undefined) !== (key === undefined))
    problems.push(
      `${prefix}CLICKHOUSE_CLIENT_CERT and ${prefix}CLICKHOUSE_CLIENT_KEY go together (mutual TLS)`,
    );
  if (cert && !caCert)
    problems.push(`${prefix}CLICKHOUSE_CLIENT_CERT needs ${prefix}CLICKHOUSE_CA_CERT as well`);

  const url = value('CLICKHOUSE_URL');
  if (url) {
    let protocol = '';
    try {
      protocol = new URL(url).protocol;
    } catch {}
    if (protocol !== 'http:' && protocol !== 'https:') {
      problems.push(`${prefix}CLICKHOUSE_URL must be an http(s) URL, got ${JSON.stringify(url)}`);
    }
  }
  const chdbPath = env.TIDEMARK_CHDB_PATH?.trim() || './.data/chdb';
  const username = value('CLICKHOUSE_USER');
  const password = env[`${prefix}CLICKHOUSE_PASSWORD`] || undefined;
  const database = value('CLICKHOUSE_DATABASE');
  const clickhouse: ClickHouseConfig = url
    ? {
        url,
        ...(username ? { username } : {}),
        ...(password ? { password } : {}),
        ...(database ? { database } : {}),
        ...(caCert ? { tls: { caCert, ...(cert ? { cert } : {}), ...(key ? { key } : {}) } } : {}),
      }
    : { chdbPath };

  const schema: MigrateOptions = {};
  if (prefix === '') {
    const cluster = env.TIDEMARK_CLICKHOUSE_CLUSTER?.trim() || undefined;
    if (cluster !== undefined && !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(cluster))
      problems.push(`TIDEMARK_CLICKHOUSE_CLUSTER ${JSON.stringify(cluster)} is not a cluster name`);
    else if (cluster) schema.cluster = cluster;
    const ttl = env.TIDEMARK_EVENTS_TTL_DAYS?.trim();
    if (ttl) {
      if (!/^\d+$/.test(ttl) || Number(ttl) < 1 || Number(ttl) > 36_500)
        problems.push(
          `TIDEMARK_EVENTS_TTL_DAYS must be an integer from 1 to 36500, got ${JSON.stringify(ttl)}`,
        );
      else schema.ttlDays = Number(ttl);
    }
  }
  return { clickhouse, schema, problems };
}
