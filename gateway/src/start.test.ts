import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClickHouseConfig } from '@tidemark/store';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { fixtureQueries } from './read/readyQueries.fixture.js';
import { type Gateway, startGateway } from './start.js';

// Embedded mode as `pnpm start` runs it: listening on a real port, chDB in this process (own fork and directory).
let dir: string;
let gateway: Gateway;
const ADMIN_TOKEN = 'start-test-admin-token-42';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-gateway-start-'));
  gateway = await startGateway(
    loadConfig({
      TIDEMARK_CHDB_PATH: dir,
      TIDEMARK_PORT: '0',
      TIDEMARK_LOG_LEVEL: 'silent',
      TIDEMARK_ADMIN_TOKEN: ADMIN_TOKEN,
      TIDEMARK_EVENTS_TTL_DAYS: '400',
    }),
    { loadReadyQueries: async () => fixtureQueries },
  );
});

afterAll(async () => {
  await gateway?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('migrates with the schema options the sink takes from the same environment: the events TTL', async () => {
  const [table] = (await gateway.clickhouse?.query<{ engine_full: string }>(
    "SELECT engine_full FROM system.tables WHERE database = 'tidemark' AND name = 'events'",
  )) ?? [{ engine_full: '' }];
  expect(table?.engine_full).toMatch(/TTL toDateTime\(timestamp\) \+ toIntervalDay\(400\)/);
  // The sink reads its schema options with the same loadClickHouseConfig (sink/src/config.test.ts).
  const env = { TIDEMARK_EVENTS_TTL_DAYS: '400', TIDEMARK_CLICKHOUSE_CLUSTER: 'c1' };
  expect(loadConfig(env).schema).toEqual(loadClickHouseConfig(env).schema);
});

it('starts embedded with the demo key and stores a beacon-style batch before answering', async () => {
  const messageId = '0195802a-6b1e-7c3d-9f00-00000000beef';
  const response = await fetch(`${gateway.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8' },
    body: JSON.stringify({
      writeKey: 'demo-write-key',
      sentAt: new Date().toISOString(),
      batch: [
        { type: 'track', event: 'Smoke', messageId, anonymousId: 'a1', timestamp: new Date().toISOString() },
      ],
    }),
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ accepted: 1, rejected: [] });

  const rows = await gateway.clickhouse?.query<{ project_id: string; event: string }>(
    'SELECT project_id, event FROM tidemark.events WHERE event_id = {id:UUID}',
    { id: messageId },
  );
  expect(rows).toEqual([{ project_id: 'demo', event: 'Smoke' }]);
});

it('serves /healthz on its URL', async () => {
  const response = await fetch(`${gateway.url}/healthz`);
  expect(await response.json()).toEqual({ status: 'ok', mode: 'embedded' });
});

it('serves the read API over the chDB it writes to, in the same process', async () => {
  const messageId = '0195802a-6b1e-7c3d-9f00-00000000cafe';
  const at = '2026-03-05T12:00:00.000Z';
  const sent = await fetch(`${gateway.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({
      writeKey: 'demo-write-key',
      sentAt: new Date().toISOString(),
      batch: [
        { type: 'page', messageId, anonymousId: 'r1', timestamp: at, context: { page: { path: '/read' } } },
      ],
    }),
  });
  expect(sent.status).toBe(200);

  const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const sql = await fetch(`${gateway.url}/v1/sql`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'text/plain' },
    body: `SELECT path, anonymous_id FROM events WHERE event_id = '${messageId}'`,
  });
  expect(sql.status).toBe(200);
  expect(await sql.json()).toMatchObject({ rows: [['/read', 'r1']] });

  const ready = await fetch(
    `${gateway.url}/v1/queries/daily_visitors?project=demo&from=2026-03-05&to=2026-03-06`,
    { headers },
  );
  expect(await ready.json()).toMatchObject({ rows: [{ day: '2026-03-05', visitors: '1' }] });
  // Reading left the writer's session writable: the next batch is stored.
  const again = await fetch(`${gateway.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      writeKey: 'demo-write-key',
      batch: [{ type: 'track', event: 'After', anonymousId: 'r1' }],
    }),
  });
  expect(await again.json()).toEqual({ accepted: 1, rejected: [] });
});
