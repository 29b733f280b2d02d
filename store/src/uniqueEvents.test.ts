import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ClickHouse } from './clickhouse.js';
import { quarantineRows } from './insertEvents.js';
import { makeRow } from './row.fixture.js';
import { type TempChdb, tempChdb } from './tempChdb.fixture.js';
import { insertUniqueEvents, recordIds } from './uniqueEvents.js';

let db: TempChdb;
let ch: ClickHouse;

beforeAll(async () => {
  db = await tempChdb('tidemark-unique-events-');
  ch = db.clickhouse;
});
afterAll(async () => {
  await db.close();
});

const topic = 'tidemark.events';
/** A line as the sink's batcher gives it: topic, partition and offset of its Kafka message first. */
const fromKafka = (offset: number, eventId: string) =>
  `{"_topic":"${topic}","_partition":0,"_offset":${offset},${JSON.stringify(
    makeRow({ project_id: 'classified', event_id: eventId }),
  ).slice(1)}`;

it('tells apart what a replay leaves out: recorded ids, repeats, rows stored by lineage, parked lines', async () => {
  const storedEarlier = randomUUID();
  const recorded = randomUUID();
  const repeated = randomUUID();
  const parked = fromKafka(4, randomUUID());
  const lines = [
    fromKafka(0, storedEarlier),
    fromKafka(1, recorded),
    fromKafka(2, repeated),
    fromKafka(3, repeated),
    parked,
    fromKafka(5, randomUUID()),
  ];
  // An earlier insert of the range stored offset 0 and was killed before recording its id; offset 1's id is
  // recorded; offset 4 was parked in the quarantine.
  await insertUniqueEvents(ch, `${lines[0]}\n`, { topic });
  await recordIds(ch, [recorded]);
  await quarantineRows(ch, [{ topic, partition: '0', offset: '4', error: 'refused', row: parked }]);

  const replay = await insertUniqueEvents(ch, `${lines.join('\n')}\n`, {
    topic,
    ranges: [{ topic, partition: 0, first: '0', last: '5' }],
  });
  expect({
    duplicates: replay.duplicates,
    known: replay.known,
    storedBefore: replay.storedBefore,
    parked: replay.parked,
    sent: replay.sent,
  }).toEqual({ duplicates: 2, known: 1, storedBefore: 2, parked: 1, sent: 2 });
  expect(replay.text.match(/"_offset":\d+/g)).toEqual(['"_offset":2', '"_offset":5']);
});
