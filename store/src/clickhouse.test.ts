import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ClickHouse, createClickHouse } from './clickhouse.js';
import { clickHouseCode } from './clickhouseError.js';
import { insertEvents } from './insertEvents.js';
import { migrate } from './migrate.js';
import { makeRow, toJsonEachRow } from './row.fixture.js';

// The real engine (chDB), one data directory for this file's process (DESIGN §7).
let dir: string;
let ch: ClickHouse;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-store-ch-'));
  ch = createClickHouse({ chdbPath: dir });
});

afterAll(async () => {
  await ch.close();
  await rm(dir, { recursive: true, force: true });
});

async function count(projectId: string, table = 'tidemark.events'): Promise<number> {
  const column = table === 'tidemark.events' ? 'project_id' : "JSONExtractString(row, 'project_id')";
  const [row] = await ch.query<{ n: string }>(
    `SELECT count() AS n FROM ${table} WHERE ${column} = {p:String}`,
    {
      p: projectId,
    },
  );
  return Number(row?.n);
}

it('migrates once, and a second run (a restart, another replica) applies nothing and fails on nothing', async () => {
  const shipped = (await readdir(new URL('../sql/', import.meta.url)))
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const first = await migrate(ch);
  expect(first.applied).toEqual(shipped);
  expect(shipped.slice(0, 3)).toEqual([
    '001_events.sql',
    '002_events_quarantine.sql',
    '003_lineage_topic.sql',
  ]);
  expect((await migrate(ch)).applied).toEqual([]);

  // Even with the bookkeeping lost, the statements themselves are idempotent.
  await ch.command('TRUNCATE TABLE tidemark.schema_migrations');
  expect((await migrate(ch)).applied).toEqual(shipped);
  const tables = await ch.query<{ name: string }>(
    "SELECT name FROM system.tables WHERE database = 'tidemark'",
  );
  expect(tables.map((t) => t.name)).toEqual(
    expect.arrayContaining(['events', 'events_quarantine', 'schema_migrations']),
  );
  // Every table and view was created once, however often the migrations ran.
  expect(new Set(tables.map((t) => t.name)).size).toBe(tables.length);
});

it('stores a retried insert with the same deduplication token once, and a different token again', async () => {
  const body = toJsonEachRow([makeRow({ project_id: 'dedup' }), makeRow({ project_id: 'dedup' })]);
  await ch.insertJsonEachRow('tidemark.events', body, { dedupToken: 'topic/0:10-11' });
  await ch.insertJsonEachRow('tidemark.events', body, { dedupToken: 'topic/0:10-11' });
  expect(await count('dedup')).toBe(2);
  await ch.insertJsonEachRow('tidemark.events', body, { dedupToken: 'topic/0:12-13' });
  expect(await count('dedup')).toBe(4);
});

it('parks the one row ClickHouse refuses in the quarantine table and stores the valid rows around it', async () => {
  const good = [
    makeRow({ project_id: 'mixed' }),
    makeRow({ project_id: 'mixed' }),
    makeRow({ project_id: 'mixed' }),
  ];
  const bad = JSON.stringify({ ...makeRow({ project_id: 'mixed' }), timestamp: 'not a time' });
  const body = `${JSON.stringify(good[0])}\n${bad}\n${JSON.stringify(good[1])}\n${JSON.stringify(good[2])}\n`;

  const { quarantined } = await insertEvents(ch, body, {
    dedupToken: 'mixed/0:0-3',
    topic: 'tidemark.events',
  });
  expect(quarantined).toBe(1);
  expect(await count('mixed')).toBe(3);
  const parked = await ch.query<{ row: string; error: string }>(
    "SELECT row, error FROM tidemark.events_quarantine WHERE JSONExtractString(row, 'project_id') = 'mixed'",
  );
  expect(parked).toHaveLength(1);
  expect(parked[0]?.row).toBe(bad);
  expect(parked[0]?.error).not.toBe('');

  // The whole flush retried (its answer was lost): nothing is stored or parked twice.
  await insertEvents(ch, body, { dedupToken: 'mixed/0:0-3', topic: 'tidemark.events' });
  expect(await count('mixed')).toBe(3);
  expect(await count('mixed', 'tidemark.events_quarantine')).toBe(1);
});

it('reads with settings that hold for one statement only, and a failed read leaves nothing for the next one', async () => {
  const limits = { max_result_rows: 100, result_overflow_mode: 'throw', readonly: 2 };
  const read = await ch.read('SELECT number AS n FROM numbers(3)', { settings: limits });
  expect(read.columns).toEqual([{ name: 'n', type: 'UInt64' }]);
  expect(read.rows.map((row) => Number(row[0]))).toEqual([0, 1, 2]);
  expect(read.rowsRead).toBe(3);

  // Over the limit after output began: chDB keeps that output in the session unless something takes it.
  const failed = await ch
    .read('SELECT number FROM numbers(101)', { settings: limits })
    .catch((e: unknown) => e);
  expect(clickHouseCode(failed)).toBe(396);
  expect((await ch.read('SELECT 7 AS x')).rows).toEqual([[7]]);

  // None of the statement's settings stuck to the session: inserts still work and the limit is gone.
  const [row] = await ch.query<{ readonly: unknown; rows: unknown }>(
    "SELECT getSetting('readonly') AS readonly, getSetting('max_result_rows') AS rows",
  );
  expect([Number(row?.readonly), Number(row?.rows)]).toEqual([0, 0]);
});
