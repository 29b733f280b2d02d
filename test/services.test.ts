import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { vanillaRoot } from '@tidemark/example-vanilla/serve';
import { ConfigError, loadConfig } from '@tidemark/gateway';
import { loadSinkConfig, SinkError } from '@tidemark/sink';
import { createClickHouse } from '@tidemark/store';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { eventually } from '../harness/eventually.js';
import { type Running, runService } from '../harness/service.js';
import { dockerStage } from '../scripts/dockerfile.mjs';
import { freePort } from '../scripts/kafka.mjs';

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

/**
 * What a loader makes of `env` with one setting changed to another value of its kind: a config that differs from
 * the one `env` gives, or the loader's own error, proves the loader reads that setting.
 */
function readsSetting<T>(
  load: (env: Record<string, string>) => T,
  env: Record<string, string>,
  name: string,
) {
  const value = env[name] ?? '';
  const varied = /^\d+$/.test(value) ? String(Number(value) + 1) : `${value}-varied`;
  try {
    return !isDeepStrictEqual(load({ ...env, [name]: varied }), load(env));
  } catch (error) {
    return error instanceof ConfigError || error instanceof SinkError;
  }
}

it('names only settings the gateway and the sink read: changing any one changes their configuration', () => {
  // With a token, so that the read API's settings are in force too.
  const gatewayEnv = composeEnv('gateway', { TIDEMARK_ADMIN_TOKEN: 'a'.repeat(32) });
  const sinkEnv = composeEnv('sink');
  expect(Object.keys(gatewayEnv).length).toBeGreaterThan(0);
  expect(Object.keys(sinkEnv).length).toBeGreaterThan(0);
  // The compose environment itself is a valid configuration for each.
  expect(() => loadConfig(gatewayEnv)).not.toThrow();
  expect(() => loadSinkConfig(sinkEnv)).not.toThrow();
  const unread = [
    ...Object.keys(gatewayEnv)
      .filter((name) => !readsSetting(loadConfig, gatewayEnv, name))
      .map((name) => `gateway: ${name}`),
    ...Object.keys(sinkEnv)
      .filter((name) => !readsSetting(loadSinkConfig, sinkEnv, name))
      .map((name) => `sink: ${name}`),
  ];
  expect(unread, 'settings docker-compose.yml gives a service that its configuration ignores').toEqual([]);
});

it.each(['example-vanilla', 'example-react'])(
  'names only settings the %s server reads: it serves its site on PORT, pointed at the compose gateway and key',
  async (service) => {
    // The Dockerfile's `examples` stage, run here: its folder and CMD, the compose environment with the image's
    // /app mapped onto this checkout, and the values changed so that none is the server's own default.
    const { dir, cmd } = dockerStage('examples');
    const env = composeEnv(service);
    const port = await freePort();
    const settings: Record<string, string> = {
      PORT: String(port),
      TIDEMARK_GATEWAY_URL: `${env.TIDEMARK_GATEWAY_URL}/varied`,
      TIDEMARK_WRITE_KEY: `${env.TIDEMARK_WRITE_KEY}-varied`,
    };
    if ('TIDEMARK_SITE_ROOT' in env)
      settings.TIDEMARK_SITE_ROOT = join(root, env.TIDEMARK_SITE_ROOT.replace(/^\/app\//, ''));
    // A setting compose adds for the example must get a check here.
    expect(Object.keys(settings).sort(), `${service}: the settings this test observes`).toEqual(
      Object.keys(env).sort(),
    );

    const [program, ...args] = cmd;
    expect(program).toBe('node');
    const child = spawn(process.execPath, args, {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...settings },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const page = await eventually(
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
          return response?.ok ? response.text() : undefined;
        },
        { timeoutMs: 60_000, what: `${service} to serve its page on PORT ${port}` },
      ).catch((error: Error) => {
        throw new Error(`${error.message}; it printed:\n${output}`);
      });
      const template = await readFile(join(settings.TIDEMARK_SITE_ROOT ?? vanillaRoot, 'index.html'), 'utf8');
      expect(page).toBe(
        template
          .replaceAll('__TIDEMARK_HOST__', settings.TIDEMARK_GATEWAY_URL ?? '')
          .replaceAll('__TIDEMARK_WRITE_KEY__', settings.TIDEMARK_WRITE_KEY ?? ''),
      );
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  },
);

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
