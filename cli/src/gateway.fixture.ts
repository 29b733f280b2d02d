import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, startGateway } from '@tidemark/gateway';
import { createWriter } from '@tidemark/store';
import { modelEvents, toRow } from '../../queries/src/dataset.fixture.js';

export const ADMIN_TOKEN = 'cli-test-admin-token-0123456789';

/** A running embedded Tidemark (real gateway, chDB, the library's ready queries) for the CLI to talk to. */
export interface TestTidemark {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts an embedded gateway on a free port with the read API on, and stores the ready queries' test dataset
 * (queries/src/dataset.fixture.ts: project `shop`, March 2026) in it through the embedded writer, a third of the
 * events sent twice as browsers' resends would send them (the writer stores each event once). Answers are
 * therefore known, and the same as in queries.test.ts.
 */
export async function startTestTidemark(): Promise<TestTidemark> {
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-cli-'));
  const gateway = await startGateway(
    loadConfig({
      TIDEMARK_CHDB_PATH: dir,
      TIDEMARK_PORT: '0',
      TIDEMARK_LOG_LEVEL: 'silent',
      TIDEMARK_ADMIN_TOKEN: ADMIN_TOKEN,
    }),
  );
  const events = modelEvents();
  const body = (rows: typeof events, insertedAt: string) =>
    rows.map((e) => `${JSON.stringify(toRow(e, insertedAt))}\n`).join('');
  if (!gateway.clickhouse) throw new Error('an embedded gateway has its ClickHouse client');
  const writer = createWriter({ clickhouse: gateway.clickhouse });
  await writer.write(body(events, '2026-03-23 01:00:00.000'));
  await writer.write(
    body(
      events.filter((_, i) => i % 3 === 0),
      '2026-03-23 02:00:00.000',
    ),
  );
  return {
    url: gateway.url,
    async close() {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
