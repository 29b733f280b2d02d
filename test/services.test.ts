import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@tidemark/gateway';
import { createClickHouse } from '@tidemark/store';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../scripts/kafka.mjs';
import { type Running, runService } from './support/service.js';
import { eventually } from './support/stack.js';

// docker-compose.yml cannot run here (no Docker engine), so this runs what it describes the way its images do:
// the gateway and sink entry points as the Dockerfile's CMDs start them (both compiled), as processes, with the
// environment the compose file gives each service. Only what points at other containers is replaced: the broker,
// the ports, and chDB instead of the ClickHouse server.
const root = join(import.meta.dirname, '..');
type Service = { environment?: Record<string, string | number> };
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};

/**
 * A service's environment as `docker compose` hands it over: `${NAME:-default}` replaced from `vars` (the shell
 * that runs compose), as compose interpolates.
 */
function composeEnv(service: string, vars: Record<string, string | undefined> = {}): Record<string, string> {
  const env = compose.services[service]?.environment ?? {};
  const interpolate = (value: string) =>
    value.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, name: string, fallback = '') => vars[name] || fallback);
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, interpolate(String(value))]));
}

async function healthy(url: string): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(url);
  return response.ok ? ((await response.json()) as Record<string, unknown>) : undefined;
}

const id = randomUUID().slice(0, 8);
let chdbPath: string;
let gateway: Running;
let sink: Running;
let gatewayUrl: string;
let sinkHealth: string;

beforeAll(async () => {
  chdbPath = await mkdtemp(join(tmpdir(), 'tidemark-chdb-'));
  const brokers = inject('kafkaBrokers').join(',');
  const topics = {
    TIDEMARK_KAFKA_TOPIC: `tidemark.services.${id}`,
    TIDEMARK_KAFKA_DLQ_TOPIC: `tidemark.services.${id}.dlq`,
  };
  const gatewayPort = await freePort();
  const sinkPort = await freePort();

  gateway = runService('gateway', {
    ...composeEnv('gateway'),
    ...topics,
    KAFKA_BROKERS: brokers,
    TIDEMARK_LISTEN_HOST: '127.0.0.1',
    TIDEMARK_PORT: String(gatewayPort),
  });
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  await eventually(() => healthy(`${gatewayUrl}/healthz`), {
    timeoutMs: 60_000,
    what: `the gateway to answer /healthz; it printed:\n${gateway.output}`,
  });

  const { CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD, ...sinkEnv } = composeEnv('sink');
  expect(CLICKHOUSE_URL).toBeDefined();
  sink = runService('sink', {
    ...sinkEnv,
    TIDEMARK_KAFKA_TOPIC: topics.TIDEMARK_KAFKA_TOPIC,
    KAFKA_BROKERS: brokers,
    TIDEMARK_SINK_GROUP: `sink-${id}`,
    TIDEMARK_SINK_PORT: String(sinkPort),
    TIDEMARK_CHDB_PATH: chdbPath,
  });
  sinkHealth = `http://127.0.0.1:${sinkPort}/healthz`;
  await eventually(() => healthy(sinkHealth), {
    timeoutMs: 60_000,
    what: `the sink to answer /healthz; it printed:\n${sink.output}`,
  });
});

afterAll(async () => {
  for (const service of [gateway, sink]) {
    if (service && service.process.exitCode === null) {
      service.process.kill('SIGKILL');
      await service.exited;
    }
  }
  await rm(chdbPath, { recursive: true, force: true });
});

it('names only settings the gateway, the sink and the example server read', () => {
  // A setting is read as `env.NAME` or through a helper given 'NAME'.
  const reads = (files: string[], name: string) =>
    files.some((file) =>
      new RegExp(`env\\.${name}\\b|'${name}'`).test(readFileSync(join(root, file), 'utf8')),
    );
  const readers: Record<string, string[]> = {
    gateway: ['gateway/src/config.ts', 'store/src/config.ts'],
    sink: ['sink/src/config.ts', 'store/src/config.ts'],
    'example-vanilla': ['examples/vanilla/serve.ts'],
    'example-react': ['examples/vanilla/serve.ts'],
  };
  for (const [service, files] of Object.entries(readers)) {
    for (const name of Object.keys(composeEnv(service)))
      expect(reads(files, name), `${service}: ${name}`).toBe(true);
  }
});

it('stores events posted with the compose write key, then both services stop cleanly on SIGTERM', async () => {
  const writeKey = composeEnv('gateway').TIDEMARK_WRITE_KEYS?.split(':')[0];
  const batch = Array.from({ length: 5 }, (_, i) => ({
    type: 'track',
    event: 'Compose Check',
    anonymousId: `visitor-${i}`,
    properties: { i },
  }));
  const response = await fetch(`${gatewayUrl}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', origin: 'http://localhost:8080' },
    body: JSON.stringify({ writeKey, batch }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('access-control-allow-origin')).not.toBeNull();

  const status = await eventually(
    async () => {
      const current = await healthy(sinkHealth);
      return current && Number(current.insertedRows) >= 5 ? current : undefined;
    },
    { what: 'the sink to insert the five events' },
  );
  expect(status.insertedRows).toBe(5);

  sink.process.kill('SIGTERM');
  gateway.process.kill('SIGTERM');
  expect(await sink.exited).toBe(0);
  expect(await gateway.exited).toBe(0);
  expect(sink.output).toContain('"sink stopped"');
});

it('gives the read API a ClickHouse user that the initdb script creates with SELECT on tidemark.* only', async () => {
  // What compose starts the gateway with when the user passes a token: a valid configuration whose read user is
  // the one clickhouse/initdb creates, with its password.
  const config = loadConfig(composeEnv('gateway', { TIDEMARK_ADMIN_TOKEN: 'a'.repeat(32) }));
  expect(config.read.adminToken).toBe('a'.repeat(32));
  expect(config.read.clickhouse?.url).toBe('http://clickhouse:8123');
  const init = readFileSync(join(root, 'clickhouse/initdb/001_reader.sql'), 'utf8');
  const statements = init
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n')
    .split(';')
    .map((statement) => statement.trim())
    .filter(Boolean);
  expect(statements).toEqual([
    `CREATE USER IF NOT EXISTS ${config.read.clickhouse?.username} IDENTIFIED WITH sha256_password BY '${config.read.clickhouse?.password}' SETTINGS readonly = 2`,
    `GRANT SELECT ON tidemark.* TO ${config.read.clickhouse?.username}`,
  ]);
  // No ClickHouse server here, and chDB has no access management, but its parser is ClickHouse's: each statement
  // must be one the server accepts as written.
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-chdb-'));
  const clickhouse = createClickHouse({ chdbPath: dir });
  try {
    for (const statement of statements) {
      const ast = await clickhouse.query<{ explain: string }>(`EXPLAIN AST ${statement}`);
      expect(ast.length, statement).toBeGreaterThan(0);
    }
  } finally {
    await clickhouse.close();
    await rm(dir, { recursive: true, force: true });
  }
});
