// What the column codecs of store/sql/004_events_codecs.sql save: loads N realistic events (bench/schema-rows.ts)
// into chDB with the schema before 004, measures every column's compressed bytes, applies the remaining
// migrations, rewrites the parts (OPTIMIZE … FINAL) and measures again. Also shows why the timestamps get
// ZSTD alone: Delta and DoubleDelta in front of it, measured on the same rows.
//   npx tsx bench/schema.ts [events=200000]
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClickHouse, migrate, migrationsDir } from '@tidemark/store';
import { report } from './report.js';
import { realisticRows } from './schema-rows.js';

const [events = 200_000] = process.argv.slice(2).map(Number);
const scratch = await mkdtemp(join(tmpdir(), 'tidemark-bench-schema-'));
const clickhouse = createClickHouse({ chdbPath: join(scratch, 'chdb') });

type Column = { name: string; type: string; compressed: string; uncompressed: string };
const columns = async (table: string) =>
  clickhouse.query<Column>(
    `SELECT name, type, data_compressed_bytes AS compressed, data_uncompressed_bytes AS uncompressed
     FROM system.columns WHERE database = 'tidemark' AND table = {t:String} ORDER BY position`,
    { t: table },
  );
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

try {
  // The schema as it was before 004: a directory with the earlier migrations only.
  const before = join(scratch, 'sql-before-004');
  await mkdir(before);
  for (const file of await readdir(migrationsDir)) {
    if (/^00[0-3]_.*\.sql$/.test(file)) await copyFile(join(migrationsDir, file), join(before, file));
  }
  await migrate(clickhouse, { dir: before });
  // Small parts are written in the compact format, whose columns share one file and report no size of their own:
  // wide parts from the first row on, so that a short run (the smoke test's) measures the columns too.
  await clickhouse.command('ALTER TABLE tidemark.events MODIFY SETTING min_bytes_for_wide_part = 0');

  const rows = realisticRows(events);
  const started = performance.now();
  for (let i = 0; i < rows.length; i += 20_000) {
    const chunk = rows.slice(i, i + 20_000);
    await clickhouse.insertJsonEachRow(
      'tidemark.events',
      chunk.map((r) => `${JSON.stringify(r)}\n`).join(''),
    );
  }
  const insertSeconds = (performance.now() - started) / 1000;
  await clickhouse.command('OPTIMIZE TABLE tidemark.events FINAL');
  const lz4 = await columns('events');

  // Alternatives for the DateTime64 columns, on a copy of the same rows.
  const alternatives: Record<string, Map<string, number>> = {};
  for (const codec of ['ZSTD(1)', 'Delta, ZSTD(1)', 'DoubleDelta, ZSTD(1)']) {
    await clickhouse.command('DROP TABLE IF EXISTS tidemark.bench_codec');
    await clickhouse.command('CREATE TABLE tidemark.bench_codec AS tidemark.events');
    for (const c of ['timestamp', 'sent_at', 'received_at', '_inserted_at']) {
      await clickhouse.command(`ALTER TABLE tidemark.bench_codec MODIFY COLUMN ${c} CODEC(${codec})`);
    }
    await clickhouse.command('INSERT INTO tidemark.bench_codec SELECT * FROM tidemark.events');
    await clickhouse.command('OPTIMIZE TABLE tidemark.bench_codec FINAL');
    alternatives[codec] = new Map((await columns('bench_codec')).map((c) => [c.name, Number(c.compressed)]));
  }
  await clickhouse.command('DROP TABLE tidemark.bench_codec');

  await migrate(clickhouse);
  await clickhouse.command('OPTIMIZE TABLE tidemark.events FINAL');
  const tuned = new Map((await columns('events')).map((c) => [c.name, Number(c.compressed)]));

  const table = lz4.map((c) => ({
    column: c.name,
    type: c.type,
    uncompressed: Number(c.uncompressed),
    'before (LZ4)': Number(c.compressed),
    'after (004)': tuned.get(c.name) ?? 0,
    saved: `${(100 * (1 - (tuned.get(c.name) ?? 0) / Math.max(1, Number(c.compressed)))).toFixed(0)} %`,
  }));
  const total = (key: 'before (LZ4)' | 'after (004)' | 'uncompressed') =>
    table.reduce((s, r) => s + r[key], 0);
  console.log(
    `${events.toLocaleString('en-US')} events, inserted at ${Math.round(events / insertSeconds).toLocaleString('en-US')} rows/s before 004`,
  );
  console.table(table);
  console.log(
    `events table: uncompressed ${mb(total('uncompressed'))}, before ${mb(total('before (LZ4)'))}, ` +
      `after ${mb(total('after (004)'))} (${(total('before (LZ4)') / total('after (004)')).toFixed(2)}× smaller)`,
  );
  console.log('DateTime64 codecs on the same rows (compressed bytes):');
  console.table(
    ['timestamp', 'sent_at', 'received_at', '_inserted_at'].map((name) => ({
      column: name,
      LZ4: Number(lz4.find((c) => c.name === name)?.compressed),
      ...Object.fromEntries(Object.entries(alternatives).map(([codec, m]) => [codec, m.get(name)])),
    })),
  );
  const perEvent = (bytes: number) => `${(bytes / events).toFixed(1)} B per event`;
  report('schema.ts', [
    {
      key: 'schema.events.compressed_mb',
      label: 'tidemark.events on disk with the codecs of 004',
      value: Number((total('after (004)') / 1e6).toFixed(2)),
      unit: 'MB',
      note:
        `${events} events, ${perEvent(total('after (004)'))}; ` +
        `${(total('before (LZ4)') / 1e6).toFixed(2)} MB with LZ4, ${(total('uncompressed') / 1e6).toFixed(2)} MB uncompressed`,
    },
    {
      key: 'schema.events.compression_gain',
      label: 'tidemark.events, LZ4 bytes / 004 codec bytes',
      value: Number((total('before (LZ4)') / total('after (004)')).toFixed(2)),
      unit: '×',
    },
    {
      key: 'schema.insert_rows_per_s',
      label: 'chDB insert of the generated rows (schema before 004)',
      value: Math.round(events / insertSeconds),
      unit: 'rows/s',
      note: 'JSON serialized in JavaScript, chunks of 20 000 rows',
    },
  ]);
} finally {
  await clickhouse.close();
  await rm(scratch, { recursive: true, force: true });
}
