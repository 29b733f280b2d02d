import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ClickHouse, createClickHouse } from './clickhouse.js';
import { StoreError } from './errors.js';
import { ttlStatement } from './eventsTtl.js';
import { migrate } from './migrate.js';
import { renderMigrations, renderSql, renderViews } from './migrationRender.js';

// The real engine (chDB), one data directory for this file's process (DESIGN §7): its parser judges the
// cluster rendering, which no single process can run.
let dir: string;
let ch: ClickHouse;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-store-render-'));
  ch = createClickHouse({ chdbPath: dir });
});

afterAll(async () => {
  await ch.close();
  await rm(dir, { recursive: true, force: true });
});

async function parses(statement: string): Promise<string> {
  const [row] = await ch.query<{ q: string }>('SELECT formatQuery({s:String}) AS q', { s: statement });
  return row?.q ?? '';
}

it('renders every migration for a cluster into statements ClickHouse parses, each DDL ON CLUSTER', async () => {
  const migrations = await renderMigrations({ cluster: 'tidemark_cluster' });
  const statements = migrations.flatMap((m) => m.statements);
  expect(statements.length).toBeGreaterThan(10);
  // The backfills run on the node the migration talks to (an INSERT has no ON CLUSTER form): 008's fills that
  // node's id table; the rollups' reach every shard through the Distributed tables.
  const backfills = statements.filter((s) => s.startsWith('INSERT INTO'));
  for (const statement of statements) {
    const formatted = await parses(statement);
    if (backfills.includes(statement)) {
      expect(formatted).not.toMatch(/ON CLUSTER|_local\b/);
      continue;
    }
    expect(formatted).toContain('ON CLUSTER tidemark_cluster');
  }
  // Per node, not replicated: the id table is created on every node under its single-server name.
  expect(statements.find((s) => s.includes('tidemark.event_ids ON CLUSTER'))).toContain('EmbeddedRocksDB(');
  expect(backfills.map((s) => s.split('\n')[0]?.split(' (')[0])).toEqual([
    'INSERT INTO tidemark.event_ids',
    'INSERT INTO tidemark.traffic_hourly_state',
    'INSERT INTO tidemark.session_hours_state',
    'INSERT INTO tidemark.web_vital_samples',
    'INSERT INTO tidemark.session_hours',
    'INSERT INTO tidemark.page_days_state',
    'INSERT INTO tidemark.web_vital_days_state',
    'INSERT INTO tidemark.person_links',
    'INSERT INTO tidemark.distinct_id_hours',
    'INSERT INTO tidemark.visitor_numbers',
    'INSERT INTO tidemark.visitor_numbers_join',
    'INSERT INTO tidemark.traffic_hours',
    'INSERT INTO tidemark.traffic_days',
    'INSERT INTO tidemark.page_days',
    'INSERT INTO tidemark.session_values',
    'INSERT INTO tidemark.web_vital_samples',
  ]);
  // The rollups' backfills read every shard's events once each.
  const rollupBackfills = backfills.filter(
    (s) => !/^INSERT INTO tidemark\.(event_ids|visitor_numbers)/.test(s),
  );
  expect(rollupBackfills.every((s) => s.includes('FROM tidemark.events FINAL'))).toBe(true);
  const events = statements.find((s) => s.includes('CREATE TABLE IF NOT EXISTS tidemark.events_local '));
  expect(events).toContain(
    "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tidemark/events_local', '{replica}', _inserted_at)",
  );
  expect(statements).toContain(
    'CREATE TABLE IF NOT EXISTS tidemark.events ON CLUSTER tidemark_cluster AS tidemark.events_local\n' +
      'ENGINE = Distributed(tidemark_cluster, tidemark, events_local, cityHash64(anonymous_id))',
  );
  // The parser is the judge, so it must be able to say no: the same statement with its engine left open.
  await expect(
    parses(
      'CREATE TABLE IF NOT EXISTS tidemark.events ON CLUSTER tidemark_cluster AS tidemark.events_local\n' +
        'ENGINE = Distributed(tidemark_cluster, tidemark, events_local, cityHash64(anonymous_id)',
    ),
  ).rejects.toThrow(/Syntax error/);
  // Materialized views read the shard's local rows and write its local state; queries read Distributed.
  const mv = statements.find((s) =>
    s.startsWith('CREATE MATERIALIZED VIEW IF NOT EXISTS tidemark.sessions_mv'),
  );
  expect(mv).toContain('TO tidemark.sessions_state_local');
  expect(mv).toContain('FROM tidemark.events_local');
  // Every view, not only that one: a view over the Distributed table would run on the node of the insert and see
  // every shard's rows, one that wrote the Distributed table would re-route its states (docs/cluster.md).
  const views = statements.filter((s) => s.startsWith('CREATE MATERIALIZED VIEW'));
  expect(views.length).toBeGreaterThanOrEqual(11);
  for (const view of views) {
    expect(view).toMatch(/\bTO tidemark\.\w+_local\b/);
    expect(view).toMatch(/\bFROM tidemark\.events_local\b/);
    expect(view).not.toMatch(/\btidemark\.events\b(?!_local)/);
  }
  expect(statements.some((s) => s.includes('ReplicatedAggregatingMergeTree'))).toBe(true);
});

it('renders the views (store/sql/views) for a cluster into statements ClickHouse parses, each ON CLUSTER', async () => {
  const views = await renderViews({ cluster: 'tidemark_cluster' });
  expect(views.map((v) => v.file)).toContain('views/01_filtered_sessions.sql');
  for (const { file, statements } of views) {
    // A view, and its no-filter twin when it takes a filter.
    expect(statements.length, file).toBeGreaterThanOrEqual(1);
    expect(statements.length, file).toBeLessThanOrEqual(2);
    for (const statement of statements) {
      const formatted = await parses(statement);
      expect(formatted, file).toMatch(
        /^CREATE OR REPLACE VIEW tidemark\.\w+ ON CLUSTER tidemark_cluster\s+AS/,
      );
      // A view reads the Distributed tables, under their single-server names, so it sees every shard.
      expect(formatted, file).not.toMatch(/_local\b/);
    }
  }
});

it('renders the single-server migrations without a trace of the cluster, and they run', async () => {
  const migrations = await renderMigrations();
  for (const { statements } of migrations) {
    for (const statement of statements) {
      expect(statement).not.toMatch(/ON CLUSTER|Replicated|Distributed|_local\b|\{\{/);
      await ch.command(statement);
    }
  }
  const [engine] = await ch.query<{ engine_full: string }>(
    "SELECT engine_full FROM system.tables WHERE database = 'tidemark' AND name = 'events'",
  );
  expect(engine?.engine_full).toMatch(
    /^ReplacingMergeTree\(_inserted_at\) PARTITION BY toYYYYMM\(timestamp\) ORDER BY \(project_id, toDate\(timestamp\), event, cityHash64\(anonymous_id\), event_id\)/,
  );
});

it('renders the placeholders one by one, and refuses a DDL that would change one node of a cluster', () => {
  const sql = [
    'CREATE TABLE IF NOT EXISTS tidemark.t{{local}} {{on_cluster}} (a String) ENGINE = {{engine t MergeTree()}} ORDER BY a;',
    '{{distributed t rand()}};',
    '{{cluster_only}} ALTER TABLE tidemark.t {{on_cluster}} ADD COLUMN IF NOT EXISTS b String;',
    '{{this_node}} INSERT INTO tidemark.u SELECT a FROM tidemark.t;',
  ].join('\n');
  expect(renderSql(sql)).toEqual([
    'CREATE TABLE IF NOT EXISTS tidemark.t  (a String) ENGINE = MergeTree() ORDER BY a',
    'INSERT INTO tidemark.u SELECT a FROM tidemark.t',
  ]);
  expect(renderSql(sql, { cluster: 'c' })).toEqual([
    "CREATE TABLE IF NOT EXISTS tidemark.t_local ON CLUSTER c (a String) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/tidemark/t_local', '{replica}') ORDER BY a",
    'CREATE TABLE IF NOT EXISTS tidemark.t ON CLUSTER c AS tidemark.t_local\nENGINE = Distributed(c, tidemark, t_local, rand())',
    'ALTER TABLE tidemark.t ON CLUSTER c ADD COLUMN IF NOT EXISTS b String',
    'INSERT INTO tidemark.u SELECT a FROM tidemark.t',
  ]);
  expect(() => renderSql('ALTER TABLE tidemark.t DROP COLUMN b', { cluster: 'c' })).toThrow(StoreError);
  expect(() => renderSql('SELECT 1', { cluster: 'c; DROP' })).toThrow(StoreError);
  expect(() => renderSql('SELECT {{nope}}')).toThrow(StoreError);
});

it('changes the TTL only when it differs, on the local table of a cluster', async () => {
  expect(ttlStatement('ReplacingMergeTree(_inserted_at) ORDER BY x', undefined)).toBeUndefined();
  expect(ttlStatement('ReplacingMergeTree(_inserted_at) ORDER BY x', 30, 'c')).toBe(
    'ALTER TABLE tidemark.events_local ON CLUSTER c MODIFY TTL toDateTime(timestamp) + INTERVAL 30 DAY',
  );
  const with30 =
    'ReplacingMergeTree(_inserted_at) ORDER BY x TTL toDateTime(timestamp) + toIntervalDay(30) SETTINGS';
  expect(ttlStatement(with30, 30)).toBeUndefined();
  expect(ttlStatement(with30, 31)).toContain('INTERVAL 31 DAY');
  expect(ttlStatement(with30, undefined)).toBe('ALTER TABLE tidemark.events REMOVE TTL');
  expect(() => ttlStatement('', 0)).toThrow(StoreError);
  await parses(ttlStatement(with30, undefined, 'c') ?? '');
  await parses(ttlStatement('', 30, 'c') ?? '');
});

it('gives every view that takes a filter a no-filter twin that reads only twins and refuses a filter', async () => {
  const statements = (await renderViews()).flatMap((v) => v.statements);
  const name = (s: string) => /^CREATE OR REPLACE VIEW tidemark\.(\w+)/.exec(s)?.[1] as string;
  const filtered = statements.filter(
    (s) => s.includes('{filter:String}') && !name(s).endsWith('_unfiltered'),
  );
  const names = new Set(statements.map(name));
  expect(filtered.map(name)).toEqual(
    expect.arrayContaining([
      'filtered_sessions',
      'session_rows',
      'range_sessions',
      'traffic_rows',
      'page_rows',
    ]),
  );
  for (const view of filtered) expect(names, name(view)).toContain(`${name(view)}_unfiltered`);
  for (const twin of statements.filter((s) => name(s).endsWith('_unfiltered'))) {
    // Every view it calls is a twin: nothing plans filtered_sessions.
    for (const [, called] of twin.matchAll(/\btidemark\.(\w+)\(/g))
      expect(called, name(twin)).toMatch(/_unfiltered$/);
  }
  await migrate(ch);
  const range =
    "project = 'p', from = '2026-03-01 00:30:00', to = '2026-03-02 00:00:00', host = '', country = '', device_type = ''";
  const [none] = await ch.query<{ n: number }>(
    `SELECT count() AS n FROM tidemark.range_sessions_unfiltered(${range}, filter = '')`,
  );
  expect(Number(none?.n)).toBe(0);
  await expect(
    ch.query(`SELECT count() FROM tidemark.range_sessions_unfiltered(${range}, filter = 'browser=Firefox')`),
  ).rejects.toThrow(/take no filter/);
});
