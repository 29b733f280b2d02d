import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouse } from './clickhouse.js';
import { SinkError } from './errors.js';
import { splitStatements } from './sql-statements.js';

/** sink/sql, next to src: the numbered migrations shipped with the package. */
const defaultDir = fileURLToPath(new URL('../sql/', import.meta.url));
const migrationFile = /^(\d+)_[A-Za-z0-9_-]+\.sql$/;

/**
 * Applies sink/sql/NNN_name.sql in numeric order, each at most once, recording it in
 * `tidemark.schema_migrations`. Safe to run at every start and from several processes: the statements are
 * idempotent themselves, the bookkeeping only saves the work.
 */
export async function migrate(ch: ClickHouse, opts: { dir?: string } = {}): Promise<{ applied: string[] }> {
  const dir = opts.dir ?? defaultDir;
  // The bookkeeping table must exist before we can ask what ran; ReplacingMergeTree so that two processes
  // migrating at once leave one row per migration after merges (reads use DISTINCT anyway).
  await ch.command('CREATE DATABASE IF NOT EXISTS tidemark');
  await ch.command(
    `CREATE TABLE IF NOT EXISTS tidemark.schema_migrations (
       name String,
       checksum String,
       applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
     ) ENGINE = ReplacingMergeTree(applied_at) ORDER BY name`,
  );
  const done = new Set(
    (await ch.query<{ name: string }>('SELECT DISTINCT name FROM tidemark.schema_migrations')).map(
      (r) => r.name,
    ),
  );

  const files = (await readdir(dir))
    .filter((f) => migrationFile.test(f))
    .sort((a, b) => Number(a.split('_')[0]) - Number(b.split('_')[0]) || a.localeCompare(b));

  const applied: string[] = [];
  for (const file of files) {
    if (done.has(file)) continue;
    const sql = await readFile(join(dir, file), 'utf8');
    for (const statement of splitStatements(sql)) {
      try {
        await ch.command(statement);
      } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        throw new SinkError('MIGRATION_FAILED', `Migration ${file} failed: ${detail}`, { cause: err });
      }
    }
    const checksum = createHash('sha256').update(sql).digest('hex');
    await ch.insertJsonEachRow('tidemark.schema_migrations', `${JSON.stringify({ name: file, checksum })}\n`);
    applied.push(file);
  }
  return { applied };
}
