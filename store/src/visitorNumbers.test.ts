import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ClickHouse } from './clickhouse.js';
import { makeRow } from './row.fixture.js';
import { type TempChdb, tempChdb } from './tempChdb.fixture.js';
import { insertUniqueEvents, recordIds } from './uniqueEvents.js';
import {
  createVisitorNumbering,
  embeddedPartition,
  numberVisitors,
  visitorKey,
  withoutVisitorNumber,
} from './visitorNumbers.js';

let db: TempChdb;
let ch: ClickHouse;

beforeAll(async () => {
  db = await tempChdb('tidemark-visitor-numbers-');
  ch = db.clickhouse;
});
afterAll(async () => {
  await db.close();
});

const base = (partition: number) => BigInt(partition) << 32n;
const line = (project: string, anonymous: string) =>
  JSON.stringify(makeRow({ project_id: project, anonymous_id: anonymous }));
/** A line as the sink's batcher gives it: the Kafka message's partition and offset first. */
const fromKafka = (partition: number, offset: number, project: string, anonymous: string) =>
  `{"_partition":${partition},"_offset":${offset},${line(project, anonymous).slice(1)}`;
const numbersOf = (lines: string[]) =>
  lines.map((l) => BigInt(/"visitor_number":(\d+)\}$/.exec(l)?.[1] ?? '-1'));

async function mapping(): Promise<Record<string, string>> {
  const rows = await ch.query<{ key: string; number: string }>(
    'SELECT key, toString(number) AS number FROM tidemark.visitor_numbers ORDER BY key',
  );
  return Object.fromEntries(rows.map((r) => [r.key, r.number]));
}

it('numbers the embedded writer’s visitors densely, once each, per project, and after a restart goes on', async () => {
  const numbering = createVisitorNumbering();
  const lines = [
    line('p1', 'a'),
    line('p1', 'b'),
    line('p1', 'a'),
    line('p2', 'a'),
    line('p1', 'quote"and\\slash'),
  ];
  const first = await numberVisitors(ch, lines, numbering);
  const e = base(embeddedPartition);
  expect(numbersOf(first)).toEqual([e + 1n, e + 2n, e + 1n, e + 3n, e + 4n]);
  expect(withoutVisitorNumber(first[0] ?? '')).toBe(lines[0]);
  // The stored row carries it, and the escaped id is the key 040 computes in SQL.
  expect(JSON.parse(first[4] ?? '{}').visitor_number).toBeGreaterThan(0);
  expect((await mapping())[visitorKey('p1', 'quote"and\\slash')]).toBe(String(e + 4n));

  // A known visitor keeps its number; a process that starts afresh reads where the numbers stopped.
  const restarted = createVisitorNumbering();
  const again = await numberVisitors(ch, [line('p1', 'b'), line('p1', 'c')], restarted);
  expect(numbersOf(again)).toEqual([e + 2n, e + 5n]);
  expect(numbersOf(await numberVisitors(ch, [line('p2', 'b')], restarted))).toEqual([e + 6n]);
});

it('numbers a Kafka partition’s visitors from its log alone: a replay, another sink and a resumed range agree', async () => {
  const batch = [
    fromKafka(3, 10, 'k', 'a'),
    fromKafka(3, 11, 'k', 'b'),
    fromKafka(3, 11, 'k', 'a'),
    fromKafka(3, 12, 'k', 'c'),
    fromKafka(4, 7, 'k', 'x'),
  ];
  const sink = createVisitorNumbering();
  const p3 = base(3);
  const p4 = base(4);
  const numbered = await numberVisitors(ch, batch, sink);
  expect(numbersOf(numbered)).toEqual([p3 + 1n, p3 + 2n, p3 + 1n, p3 + 3n, p4 + 1n]);
  const after = await mapping();

  // A replay of the same messages by another sink (its own counters, read from the mapping) gives the same.
  expect(numbersOf(await numberVisitors(ch, batch, createVisitorNumbering()))).toEqual(numbersOf(numbered));
  // A replay from offset 11 (the sink died after committing 10): b, whose number an attempt at 11 gave, is new
  // again and gets that same number; d after it the next.
  const resumed = await numberVisitors(
    ch,
    [fromKafka(3, 11, 'k', 'b'), fromKafka(3, 12, 'k', 'c'), fromKafka(3, 13, 'k', 'd')],
    createVisitorNumbering(),
  );
  expect(numbersOf(resumed)).toEqual([p3 + 2n, p3 + 3n, p3 + 4n]);
  // The sink that numbered 10…12 goes on at 13 from its own counter and agrees.
  expect(numbersOf(await numberVisitors(ch, [fromKafka(3, 13, 'k', 'd')], sink))).toEqual([p3 + 4n]);
  // Nothing was renumbered, and a visitor met on another partition (the topic grew) keeps its number.
  expect(await mapping()).toMatchObject(after);
  expect(numbersOf(await numberVisitors(ch, [fromKafka(9, 0, 'k', 'a')], sink))).toEqual([p3 + 1n]);
});

it('stores each row with its number and counts visitors in the bitmap rollups as the raw events do', async () => {
  const rows = ['u1', 'u2', 'u1', 'u3'].map((anonymous, i) =>
    JSON.stringify(
      makeRow({ project_id: 'rolled', anonymous_id: anonymous, timestamp: `2026-02-01 10:0${i}:00.000` }),
    ),
  );
  const body = `${rows.join('\n')}\n`;
  const numbering = createVisitorNumbering();
  await recordIds(ch, (await insertUniqueEvents(ch, body, { visitors: numbering })).ids);
  // The same rows again (a client's resend): left out by their ids, nothing renumbered.
  expect((await insertUniqueEvents(ch, body, { visitors: numbering })).duplicates).toBe(4);
  const stored = await ch.query<{ anonymous_id: string; n: string }>(
    `SELECT anonymous_id, toString(any(visitor_number)) AS n, uniqExact(visitor_number) AS numbers
     FROM tidemark.events WHERE project_id = 'rolled' GROUP BY anonymous_id HAVING numbers = 1 ORDER BY anonymous_id`,
  );
  const given = await mapping();
  expect(stored.map((r) => [r.anonymous_id, r.n])).toEqual(
    ['u1', 'u2', 'u3'].map((a) => [a, given[visitorKey('rolled', a)]]),
  );
  const [rollup] = await ch.query<{ visitors: string; pages: string }>(
    `SELECT toString(groupBitmapMerge(visitors)) AS visitors,
            (SELECT toString(groupBitmapMerge(visitors)) FROM tidemark.page_days WHERE project_id = 'rolled') AS pages
     FROM tidemark.traffic_hours WHERE project_id = 'rolled' AND dimension = ''`,
  );
  expect(rollup).toEqual({ visitors: '3', pages: '3' });
});

it('keys a visitor as migration 040 does in SQL, whatever its ids hold', async () => {
  const pairs = [
    ['p1', 'a'],
    ['p1', 'quote"and\\slash'],
    ['projé', 'ünïcode 🙂'],
    ['1:', 'x'],
    ['1', ':x'],
  ] as const;
  const rows = await ch.query<{ key: string }>(
    `SELECT lower(hex(substring(SHA256(concat(toString(length(p)), ':', p, a)), 1, 16))) AS key
     FROM (SELECT arrayJoin(arrayZip({projects:Array(String)}, {anonymous:Array(String)})) AS t, t.1 AS p, t.2 AS a)`,
    { projects: pairs.map(([p]) => p), anonymous: pairs.map(([, a]) => a) },
  );
  expect(rows.map((r) => r.key)).toEqual(pairs.map(([p, a]) => visitorKey(p, a)));
  // The length prefix keeps ('1:', 'x') and ('1', ':x') apart.
  expect(new Set(rows.map((r) => r.key)).size).toBe(pairs.length);
});
