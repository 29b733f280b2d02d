import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { type Gateway, startGateway } from './start.js';

// Embedded mode as `pnpm start` runs it: listening on a real port, chDB in this process (own fork and directory).
let dir: string;
let gateway: Gateway;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-gateway-start-'));
  gateway = await startGateway(
    loadConfig({ TIDEMARK_CHDB_PATH: dir, TIDEMARK_PORT: '0', TIDEMARK_LOG_LEVEL: 'silent' }),
  );
});

afterAll(async () => {
  await gateway?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
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
