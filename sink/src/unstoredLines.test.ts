import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouse, createClickHouse, insertEvents, migrate } from '@tidemark/store';
import { makeRow, toJsonEachRow } from '@tidemark/store/fixture';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addLineage } from './batcher.js';
import { unstoredLines } from './unstoredLines.js';

// The real engine (chDB), one data directory for this file's process (DESIGN §7).
let dir: string;
let ch: ClickHouse;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-sink-unstored-'));
  ch = createClickHouse({ chdbPath: dir });
  await migrate(ch);
});

afterAll(async () => {
  await ch.close();
  await rm(dir, { recursive: true, force: true });
});

/** Message `offset` of partition 3: `rows` valid rows, with lineage, as the batcher builds a flush body. */
function message(topic: string, offset: number, rows: number): string {
  const value = toJsonEachRow(Array.from({ length: rows }, () => makeRow({ project_id: topic })));
  return addLineage(value, 3, String(offset), topic).text;
}

it('names the lines of a flush that are neither stored nor quarantined, row by row', async () => {
  const topic = 'tidemark.unstored';
  const messages = [0, 1, 2, 3, 4].map((offset) => message(topic, offset, 2));
  const poisoned = addLineage(
    `${JSON.stringify(makeRow({ project_id: topic }))}\n${JSON.stringify({ ...makeRow(), event_id: 'not-a-uuid' })}\n`,
    3,
    '5',
    topic,
  ).text;
  const body = [...messages, poisoned].join('');

  // Stored: message 0 whole, one row of message 1 (an insert over two months commits a part per month), message
  // 4 whole, and message 5 with its bad row quarantined. Messages 2 and 3 are not stored at all.
  await insertEvents(ch, messages[0] ?? '');
  await insertEvents(ch, `${(messages[1] ?? '').split('\n')[0]}\n`);
  await insertEvents(ch, messages[4] ?? '');
  expect(await insertEvents(ch, poisoned, { topic })).toMatchObject({ quarantined: 1 });

  const missing = await unstoredLines(ch, body, { topic, partition: 3, first: '0', last: '5' });
  // Message 1's stored row is not named again: inserting it twice would store a copy.
  expect(missing).toEqual({
    text: [`${(messages[1] ?? '').split('\n')[1]}\n`, messages[2], messages[3]].join(''),
    rows: 5,
    offsets: ['1', '2', '3'],
  });
  // Rows of another partition at the same offsets do not count as stored for this one.
  const elsewhere = [0, 1].map(
    (offset) => addLineage(toJsonEachRow([makeRow({ project_id: topic })]), 4, String(offset), topic).text,
  );
  await insertEvents(ch, elsewhere[0] ?? '');
  expect(
    await unstoredLines(ch, [...elsewhere, ...messages].join(''), {
      topic,
      partition: 4,
      first: '0',
      last: '5',
    }),
  ).toMatchObject({ rows: 1, offsets: ['1'] });
});

it('finds nothing missing once every message is stored', async () => {
  const topic = 'tidemark.stored';
  const body = [7, 8].map((offset) => message(topic, offset, 3)).join('');
  await insertEvents(ch, body, { dedupToken: `${topic}:3:7-8` });
  expect(await unstoredLines(ch, body, { topic, partition: 3, first: '7', last: '8' })).toEqual({
    text: '',
    rows: 0,
    offsets: [],
  });
});
