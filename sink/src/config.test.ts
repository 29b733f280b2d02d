import { loadClickHouseConfig } from '@tidemark/store';
import { expect, it } from 'vitest';
import { loadSinkConfig } from './config.js';

it('reads ClickHouse and the schema options exactly as every other process does', () => {
  const env = {
    KAFKA_BROKERS: 'k:9092',
    CLICKHOUSE_URL: 'https://ch.example:8443',
    CLICKHOUSE_USER: 'writer',
    CLICKHOUSE_PASSWORD: 'pw',
    TIDEMARK_EVENTS_TTL_DAYS: '400',
    TIDEMARK_CLICKHOUSE_CLUSTER: 'c1',
  };
  const { clickhouse, schema } = loadClickHouseConfig(env);
  expect(loadSinkConfig(env)).toMatchObject({ clickhouse, schema });
  expect(schema).toEqual({ cluster: 'c1', ttlDays: 400 });
});

it('lists every problem of the environment in one error', () => {
  expect(() =>
    loadSinkConfig({ CLICKHOUSE_URL: 'ftp://x', TIDEMARK_EVENTS_TTL_DAYS: '0', CLICKHOUSE_CA_CERT: '/nope' }),
  ).toThrow(
    /KAFKA_BROKERS is required[\s\S]*CLICKHOUSE_CA_CERT: cannot read[\s\S]*CLICKHOUSE_URL must be an http\(s\) URL[\s\S]*TIDEMARK_EVENTS_TTL_DAYS must be an integer/,
  );
});
