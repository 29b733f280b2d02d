import { createHash } from 'node:crypto';
import type { ClickHouse } from './clickhouse.js';
import { StoreError } from './errors.js';
import { applyEventsTtl } from './eventsTtl.js';
import { type RenderOptions, renderMigrations, renderViews } from './migrationRender.js';

/** What `migrate` applies beyond the files: the cluster rendering and the events TTL. */
export type MigrateOptions = RenderOptions & {
  /**
   * Days of raw events to keep (`TIDEMARK_EVENTS_TTL_DAYS`), by event `timestamp`; undefined keeps them
   * forever (and removes a TTL set earlier). Rollups are never expired.
   */
  ttlDays?: number;
};

/**
 * Applies store/sql/NNN_name.sql in numeric order, each at most once, recording it in
 * `tidemark.schema_migrations`, then re-creates the views of store/sql/views (every run: they are code, not
 * data) and brings the events TTL to `ttlDays`. Safe to run at every start and from
 * several processes: the statements are idempotent themselves, the bookkeeping only saves the work.
 */
export async function migrate(
  ch: ClickHouse,
  opts: MigrateOptions = {},
): Promise<{ applied: string[]; ttl?: string }> {
  const migrations = await renderMigrations(opts);
  // The bookkeeping table must exist before we can ask what ran; ReplacingMergeTree so that two processes
  // migrating at once leave one row per migration after merges (reads use DISTINCT anyway). On a cluster it
  // stays on the node we talk to: every statement is idempotent, so another node's sink re-running them is
  // harmless.
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

  const applied: string[] = [];
  for (const { file, sql, statements } of migrations) {
    if (done.has(file)) continue;
    await runStatements(ch, `Migration ${file}`, statements);
    const checksum = createHash('sha256').update(sql).digest('hex');
    await ch.insertJsonEachRow('tidemark.schema_migrations', `${JSON.stringify({ name: file, checksum })}\n`);
    applied.push(file);
  }
  for (const { file, statements } of await renderViews(opts)) await runStatements(ch, file, statements);
  try {
    const ttl = await applyEventsTtl(ch, opts.ttlDays, opts.cluster);
    return ttl ? { applied, ttl } : { applied };
  } catch (err) {
    if (err instanceof StoreError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new StoreError('migration_failed', `Setting the events TTL failed: ${detail}`, { cause: err });
  }
}

/** Runs a file's statements in order; the first that fails stops the run, named by `what`. */
async function runStatements(ch: ClickHouse, what: string, statements: readonly string[]): Promise<void> {
  for (const statement of statements) {
    try {
      await ch.command(statement);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new StoreError('migration_failed', `${what} failed: ${detail}`, { cause: err });
    }
  }
}
