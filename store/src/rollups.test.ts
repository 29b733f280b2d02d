import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ClickHouse, createClickHouse } from './clickhouse.js';
import { migrate } from './migrate.js';
import { makeRow, toJsonEachRow } from './row.fixture.js';
import type { EventRow } from './row.js';

// The real engine (chDB), one data directory for this file's process (DESIGN §7).
let dir: string;
let ch: ClickHouse;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-store-rollups-'));
  ch = createClickHouse({ chdbPath: dir });
  await migrate(ch);
});

afterAll(async () => {
  await ch.close();
  await rm(dir, { recursive: true, force: true });
});

const project = 'rollups';

function event(
  session: string,
  visitor: string,
  ts: string,
  path: string,
  overrides: Partial<EventRow> = {},
) {
  return makeRow({
    project_id: project,
    session_id: session,
    anonymous_id: visitor,
    timestamp: ts,
    host: 'shop.example',
    path,
    url: `https://shop.example${path}`,
    ...overrides,
  });
}

const click = { type: 'track', event: 'Clicked' } as const;

function vital(n: number, path: string): EventRow {
  const value = 10 * n;
  const rating = value <= 2500 ? 'good' : value <= 4000 ? 'needs-improvement' : 'poor';
  const properties = JSON.stringify({
    name: 'LCP',
    value,
    delta: value,
    id: `v5-${n}`,
    rating,
    navigationType: 'navigate',
  });
  const ts = `2026-03-01 10:${String(n % 60).padStart(2, '0')}:00.000`;
  return event(`vs-${n}`, `vv-${n % 7}`, ts, path, { type: 'track', event: '$web_vital', properties });
}

// Three sessions with answers worked out by hand; s3 crosses the hour and is split over two inserts, so its
// state rows must merge. 300 LCP samples 10…3000 ms on /a: 250 good, 50 needs improvement; 50 INP on /b.
const firstInsert = [
  event('s1', 'v1', '2026-03-01 10:05:00.000', '/a'),
  event('s1', 'v1', '2026-03-01 10:06:00.000', '/a', click),
  event('s1', 'v1', '2026-03-01 10:10:00.000', '/b'),
  event('s1', 'v1', '2026-03-01 10:20:00.000', '/a'),
  event('s2', 'v2', '2026-03-01 10:30:00.000', '/b'),
  event('s3', 'v3', '2026-03-01 10:50:00.000', '/a'),
  ...Array.from({ length: 300 }, (_, i) => vital(i + 1, '/a')),
];
const secondInsert = [
  event('s3', 'v3', '2026-03-01 11:10:00.000', '/b'),
  event('s3', 'v3', '2026-03-01 11:15:00.500', '/b', click),
  event('s4', 'v1', '2026-03-01 11:40:00.000', '/a'),
  ...Array.from({ length: 50 }, (_, i) => ({
    ...vital(i + 1, '/b'),
    properties: JSON.stringify({ name: 'INP', value: i * 7, rating: i < 30 ? 'good' : 'poor' }),
  })),
];

type Hourly = { hour: string; path: string; views: string; visitors: string };
type Session = {
  session_id: string;
  started_at: string;
  ended_at: string;
  duration_ms: string;
  entry_path: string;
  exit_path: string;
  page_views: string;
  bounce: number;
};

async function hourlyFromRollup(): Promise<Hourly[]> {
  return ch.query<Hourly>(
    `SELECT toString(hour) AS hour, path, toString(views) AS views, toString(visitors) AS visitors
     FROM tidemark.pageviews_hourly WHERE project_id = {p:String} ORDER BY hour, path`,
    { p: project },
  );
}

async function hourlyFromEvents(): Promise<Hourly[]> {
  return ch.query<Hourly>(
    `SELECT toString(toStartOfHour(timestamp)) AS hour, path, toString(count()) AS views,
            toString(uniqExact(anonymous_id)) AS visitors
     FROM tidemark.events WHERE project_id = {p:String} AND type = 'page'
     GROUP BY hour, path ORDER BY hour, path`,
    { p: project },
  );
}

async function sessionsFromRollup(): Promise<Session[]> {
  return ch.query<Session>(
    `SELECT session_id, toString(started_at) AS started_at, toString(ended_at) AS ended_at,
            toString(duration_ms) AS duration_ms, entry_path, exit_path, toString(page_views) AS page_views,
            toUInt8(bounce) AS bounce
     FROM tidemark.sessions WHERE project_id = {p:String} AND session_id LIKE 's%' ORDER BY session_id`,
    { p: project },
  );
}

async function sessionsFromEvents(): Promise<Session[]> {
  return ch.query<Session>(
    `SELECT session_id, toString(min(timestamp)) AS started_at, toString(max(timestamp)) AS ended_at,
            toString(dateDiff('millisecond', min(timestamp), max(timestamp))) AS duration_ms,
            argMinIf(path, timestamp, type = 'page') AS entry_path,
            argMaxIf(path, timestamp, type = 'page') AS exit_path,
            toString(countIf(type = 'page')) AS page_views, toUInt8(countIf(type = 'page') = 1) AS bounce
     FROM tidemark.events WHERE project_id = {p:String} AND session_id LIKE 's%'
     GROUP BY session_id ORDER BY session_id`,
    { p: project },
  );
}

type Vitals = { path: string; metric: string; p75: number; samples: string; good: string; poor: string };

async function vitals(): Promise<Vitals[]> {
  return ch.query<Vitals>(
    `SELECT path, metric, p75, toString(samples) AS samples, toString(good) AS good, toString(poor) AS poor
     FROM tidemark.web_vitals_daily WHERE project_id = {p:String} ORDER BY path, metric`,
    { p: project },
  );
}

it('rolls page views and visitors up per hour and path to exactly what the events table says', async () => {
  await ch.insertJsonEachRow('tidemark.events', toJsonEachRow(firstInsert), { dedupToken: 'rollups/0:0-1' });
  await ch.insertJsonEachRow('tidemark.events', toJsonEachRow(secondInsert), { dedupToken: 'rollups/0:2-3' });

  const rollup = await hourlyFromRollup();
  expect(rollup).toEqual([
    { hour: '2026-03-01 10:00:00', path: '/a', views: '3', visitors: '2' },
    { hour: '2026-03-01 10:00:00', path: '/b', views: '2', visitors: '2' },
    { hour: '2026-03-01 11:00:00', path: '/a', views: '1', visitors: '1' },
    { hour: '2026-03-01 11:00:00', path: '/b', views: '1', visitors: '1' },
  ]);
  expect(rollup).toEqual(await hourlyFromEvents());
});

it('finalizes sessions: start, end, duration, entry and exit page, page count and bounce', async () => {
  const sessions = await sessionsFromRollup();
  expect(sessions).toEqual([
    {
      session_id: 's1',
      started_at: '2026-03-01 10:05:00.000',
      ended_at: '2026-03-01 10:20:00.000',
      duration_ms: '900000',
      entry_path: '/a',
      exit_path: '/a',
      page_views: '3',
      bounce: 0,
    },
    {
      session_id: 's2',
      started_at: '2026-03-01 10:30:00.000',
      ended_at: '2026-03-01 10:30:00.000',
      duration_ms: '0',
      entry_path: '/b',
      exit_path: '/b',
      page_views: '1',
      bounce: 1,
    },
    {
      session_id: 's3',
      started_at: '2026-03-01 10:50:00.000',
      ended_at: '2026-03-01 11:15:00.500',
      duration_ms: '1500500',
      entry_path: '/a',
      exit_path: '/b',
      page_views: '2',
      bounce: 0,
    },
    {
      session_id: 's4',
      started_at: '2026-03-01 11:40:00.000',
      ended_at: '2026-03-01 11:40:00.000',
      duration_ms: '0',
      entry_path: '/a',
      exit_path: '/a',
      page_views: '1',
      bounce: 1,
    },
  ]);
  expect(sessions).toEqual(await sessionsFromEvents());
});

it('keeps Web Vitals quantiles close to the exact ones and counts every rating', async () => {
  const rows = await vitals();
  expect(rows.map(({ p75, ...r }) => r)).toEqual([
    { path: '/a', metric: 'LCP', samples: '300', good: '250', poor: '0' },
    { path: '/b', metric: 'INP', samples: '50', good: '30', poor: '20' },
  ]);
  const exact = await ch.query<{ path: string; p75: number }>(
    `SELECT path, quantileExact(0.75)(JSONExtractFloat(properties, 'value')) AS p75 FROM tidemark.events
     WHERE project_id = {p:String} AND event = '$web_vital' GROUP BY path ORDER BY path`,
    { p: project },
  );
  for (const [i, row] of rows.entries()) {
    const want = exact[i]?.p75 ?? Number.NaN;
    expect(Math.abs(row.p75 - want)).toBeLessThanOrEqual(want * 0.02);
  }
  expect(rows[0]?.p75).toBeGreaterThan(2200);
});

/** The pre-parsed Web Vitals samples (011), as many as the raw events hold. */
async function samples(): Promise<{ rolled: string; raw: string }[]> {
  return ch.query(
    `SELECT
       (SELECT toString(count()) FROM tidemark.web_vital_samples WHERE project_id = {p:String}) AS rolled,
       (SELECT toString(count()) FROM tidemark.events WHERE project_id = {p:String} AND event = '$web_vital') AS raw`,
    { p: project },
  );
}

it('counts a retried insert with the same deduplication token once in every rollup', async () => {
  const before = {
    hourly: await hourlyFromRollup(),
    sessions: await sessionsFromRollup(),
    vitals: await vitals(),
    samples: await samples(),
  };
  expect(before.samples[0]?.rolled).toBe(before.samples[0]?.raw);
  // The sink's flush retried after a lost answer: same body, same token.
  await ch.insertJsonEachRow('tidemark.events', toJsonEachRow(secondInsert), { dedupToken: 'rollups/0:2-3' });
  expect(await hourlyFromRollup()).toEqual(before.hourly);
  expect(await sessionsFromRollup()).toEqual(before.sessions);
  expect(await vitals()).toEqual(before.vitals);
  expect(await samples()).toEqual(before.samples);
  expect(await hourlyFromRollup()).toEqual(await hourlyFromEvents());

  // The control: the same rows under a new token are new rows, and the rollups do count them.
  await ch.insertJsonEachRow('tidemark.events', toJsonEachRow(secondInsert), { dedupToken: 'rollups/0:4-5' });
  const after = await hourlyFromRollup();
  expect(after.find((r) => r.hour === '2026-03-01 11:00:00' && r.path === '/a')?.views).toBe('2');
});

it('migrates idempotently: a second run applies nothing, a lost bookkeeping re-runs every file harmlessly', async () => {
  const tables = async () =>
    (
      await ch.query<{ name: string; engine: string }>(
        "SELECT name, engine FROM system.tables WHERE database = 'tidemark' ORDER BY name",
      )
    ).map((t) => `${t.name}:${t.engine}`);
  const hourly = await hourlyFromRollup();
  const before = await tables();
  expect(before).toEqual(
    expect.arrayContaining([
      'pageviews_hourly:View',
      'pageviews_hourly_mv:MaterializedView',
      'pageviews_hourly_state:AggregatingMergeTree',
      'sessions:View',
      'sessions_mv:MaterializedView',
      'sessions_state:AggregatingMergeTree',
      'web_vitals_daily:View',
      'web_vitals_daily_mv:MaterializedView',
      'web_vitals_daily_state:AggregatingMergeTree',
    ]),
  );
  expect((await migrate(ch)).applied).toEqual([]);
  await ch.command('TRUNCATE TABLE tidemark.schema_migrations');
  const rerun = await migrate(ch);
  expect(rerun.applied).toContain('005_pageviews_hourly.sql');
  expect(await tables()).toEqual(before);
  expect(await hourlyFromRollup()).toEqual(hourly);

  // Still one view per rollup after the re-run: one more insert counts once.
  await ch.insertJsonEachRow(
    'tidemark.events',
    toJsonEachRow([event('s9', 'v9', '2026-03-01 12:00:00.000', '/c')]),
  );
  expect(await hourlyFromRollup()).toEqual(await hourlyFromEvents());
});

it('backfills the hourly rollups from the events stored before their migration; a re-run replaces the backfill', async () => {
  const p = 'backfill';
  const rows = [...firstInsert, ...secondInsert].map((r) => ({ ...r, project_id: p }));
  await ch.insertJsonEachRow('tidemark.events', toJsonEachRow(rows));
  // A database that held these events before migrations 009 to 013: their rollups did not exist yet.
  for (const table of [
    'traffic_hours_mv',
    'traffic_hours',
    'traffic_days_mv',
    'traffic_days',
    'session_hours_plain_mv',
    'session_hours',
    'web_vital_samples_session_mv',
    'web_vital_samples',
    'page_days_v2_mv',
    'page_days',
    'web_vital_days_mv',
    'web_vital_days_state',
    'session_values_mv',
    'session_values',
  ]) {
    await ch.command(`DROP TABLE tidemark.${table} SYNC`);
  }
  await ch.command("DELETE FROM tidemark.schema_migrations WHERE name >= '009'");
  // The backfill takes the rows inserted before the second the view was created in.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const fromRollups = () =>
    ch.query<Record<string, string>>(
      `SELECT
         (SELECT toString(sum(events)) FROM tidemark.traffic_hours
          WHERE project_id = {p:String} AND dimension = '') AS events,
         (SELECT toString(groupBitmapMerge(visitors)) FROM tidemark.traffic_hours
          WHERE project_id = {p:String} AND dimension = 'page') AS page_visitors,
         (SELECT toString(sum(events)) || ' ' || toString(groupBitmapMerge(visitors)) FROM tidemark.traffic_days
          WHERE project_id = {p:String} AND dimension = '') AS day_events_visitors,
         (SELECT toString(count()) FROM (SELECT session FROM tidemark.session_hours
          WHERE project_id = {p:String} GROUP BY session HAVING sum(pageviews) > 0)) AS sessions,
         (SELECT toString(count()) || ' ' || toString(quantileExact(0.75)(value)) || ' ' || toString(countIf(rating = 'poor'))
          FROM tidemark.web_vital_samples WHERE project_id = {p:String}) AS vitals,
         (SELECT toString(groupBitmapMerge(visitors)) FROM tidemark.page_days
          WHERE project_id = {p:String}) AS day_page_visitors,
         (SELECT toString(sum(samples)) || ' ' || toString(quantileExactMerge(0.75)(p75)) || ' ' || toString(sum(poor))
          FROM tidemark.web_vital_days_state WHERE project_id = {p:String}) AS day_vitals,
         (SELECT toString(sum(events)) || ' ' || toString(uniqExact(session)) || ' ' || toString(groupBitmap(visitor_number))
          FROM tidemark.session_values WHERE project_id = {p:String} AND dimension = '') AS session_values`,
      { p },
    );
  // 350 samples: LCP 10…3000 (none poor) and INP 0…343 (20 poor); p75 of all 350 values is the 262nd sorted.
  const values = [
    ...Array.from({ length: 300 }, (_, i) => 10 * (i + 1)),
    ...Array.from({ length: 50 }, (_, i) => i * 7),
  ].sort((a, b) => a - b);
  const vitals = `350 ${values[Math.floor(0.75 * 350)]} 20`;
  const sessionValues = (rs: EventRow[]) => {
    const kept = rs.filter((r) => r.session_id !== '' && r.bot_reason === '');
    return `${kept.length} ${new Set(kept.map((r) => r.session_id)).size} ${new Set(kept.map((r) => r.anonymous_id)).size}`;
  };
  const want = [
    {
      events: String(rows.length),
      page_visitors: '3',
      day_events_visitors: `${rows.length} ${new Set(rows.map((r) => r.anonymous_id)).size}`,
      sessions: '4',
      vitals,
      day_page_visitors: '3',
      day_vitals: vitals,
      session_values: sessionValues(rows),
    },
  ];

  expect((await migrate(ch)).applied).toEqual([
    '009_traffic_hourly.sql',
    '010_session_hours.sql',
    '011_web_vital_samples.sql',
    '012_session_hours_plain.sql',
    '013_daily_pages_vitals.sql',
    // Not a rollup, but numbered after them, so its record was deleted too: its columns exist and it re-runs as
    // a no-op (ADD COLUMN IF NOT EXISTS).
    '020_segment_fields.sql',
    // Likewise: the person links (a rollup of their own, backfilled again) and the regulations' tables.
    '030_person_links.sql',
    '031_regulations.sql',
    '032_distinct_id_hours.sql',
    // The bitmap rollups that replaced 009's and 013's visitor states, backfilled again.
    '040_visitor_numbers.sql',
    '041_session_values.sql',
  ]);
  expect(await fromRollups()).toEqual(want);
  await ch.command('TRUNCATE TABLE tidemark.schema_migrations');
  await migrate(ch);
  expect(await fromRollups()).toEqual(want);
  // The views count what arrives after the migration, once.
  await ch.insertJsonEachRow(
    'tidemark.events',
    toJsonEachRow([{ ...event('s5', 'v5', '2026-03-01 12:00:00.000', '/c'), project_id: p }]),
  );
  expect(await fromRollups()).toEqual([
    {
      events: String(rows.length + 1),
      page_visitors: '4',
      day_events_visitors: `${rows.length + 1} ${new Set([...rows.map((r) => r.anonymous_id), 'v5']).size}`,
      sessions: '5',
      vitals,
      day_page_visitors: '4',
      day_vitals: vitals,
      session_values: sessionValues([
        ...rows,
        { ...event('s5', 'v5', '2026-03-01 12:00:00.000', '/c'), project_id: p },
      ]),
    },
  ]);
});

it('expires raw events after TTL days, keeps the rollups, and removes the TTL when unset', async () => {
  const engine = async () =>
    (
      await ch.query<{ engine_full: string }>(
        "SELECT engine_full FROM system.tables WHERE database = 'tidemark' AND name = 'events'",
      )
    )[0]?.engine_full ?? '';
  const recent = new Date(Date.now() - 3_600_000).toISOString().replace('T', ' ').slice(0, 23);
  await ch.insertJsonEachRow('tidemark.events', toJsonEachRow([event('s10', 'v10', recent, '/fresh')]));

  const set = await migrate(ch, { ttlDays: 7 });
  expect(set.ttl).toBe('ALTER TABLE tidemark.events MODIFY TTL toDateTime(timestamp) + INTERVAL 7 DAY');
  expect(await engine()).toContain('TTL toDateTime(timestamp) + toIntervalDay(7)');
  expect((await migrate(ch, { ttlDays: 7 })).ttl).toBeUndefined();

  await ch.command('OPTIMIZE TABLE tidemark.events FINAL');
  const left = await ch.query<{ path: string }>(
    'SELECT DISTINCT path FROM tidemark.events WHERE project_id = {p:String}',
    { p: project },
  );
  expect(left).toEqual([{ path: '/fresh' }]);
  // The rollups are the long-term record: March's hours are still there.
  expect((await hourlyFromRollup()).filter((r) => r.hour.startsWith('2026-03-01')).length).toBe(5);

  expect((await migrate(ch)).ttl).toBe('ALTER TABLE tidemark.events REMOVE TTL');
  expect(await engine()).not.toContain('TTL');
  expect((await migrate(ch)).ttl).toBeUndefined();
});
