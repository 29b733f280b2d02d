import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StoreError } from './errors.js';
import { splitStatements } from './sqlStatements.js';

/**
 * The numbered migrations shipped with the package: store/sql, next to src; in a build (gateway/build.mjs,
 * sink/build.mjs) the `sql/` copied beside the bundle or above its chunk.
 */
export const migrationsDir = ['./sql/', '../sql/']
  .map((path) => fileURLToPath(new URL(path, import.meta.url)))
  .find((dir) => existsSync(dir)) as string;
const migrationFile = /^(\d+)_[A-Za-z0-9_-]+\.sql$/;
const clusterName = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** How the migrations are rendered: for one server (the default) or for every node of a cluster. */
export type RenderOptions = {
  /**
   * ClickHouse cluster name from the servers' `remote_servers` (`TIDEMARK_CLICKHOUSE_CLUSTER`). Set: every DDL
   * runs `ON CLUSTER`, tables are `Replicated*` `<name>_local` tables with a `Distributed` table under the
   * single-server name, so the sink and queries keep their table names.
   */
  cluster?: string;
  /** Directory of NNN_name.sql files; store/sql when unset. */
  dir?: string;
};

/** One migration file, rendered: its statements in order, ready for `command()`. */
export type RenderedMigration = { file: string; sql: string; statements: string[] };

// The shared pieces of the rollups' parameterized views (see renderSql).
/** The range's whole UTC hours as `from_hour`, `hours_from` and `hours_to` (WITH clause items). */
const wholeHours = `toStartOfHour({from:DateTime64(3, 'UTC')}) AS from_hour,
    if(from_hour = {from:DateTime64(3, 'UTC')}, from_hour, from_hour + INTERVAL 1 HOUR) AS hours_from,
    greatest(toStartOfHour({to:DateTime64(3, 'UTC')}), hours_from) AS hours_to`;
/** The whole UTC days of `hours_from` … `hours_to` as `from_day`, `days_from` and `days_to` (WITH clause items). */
const rangeDays = `toStartOfDay(hours_from) AS from_day,
    if(from_day = hours_from, from_day, from_day + INTERVAL 1 DAY) AS days_from,
    greatest(toStartOfDay(hours_to), days_from) AS days_to`;
const filters = `AND ({host:String} = '' OR host = {host:String})
  AND ({country:String} = '' OR country = {country:String})
  AND ({device_type:String} = '' OR device_type = {device_type:String})`;
const edgeRows = `WHERE (hours_from != {from:DateTime64(3, 'UTC')} OR hours_to != {to:DateTime64(3, 'UTC')})
  AND project_id = {project:String}
  AND timestamp >= {from:DateTime64(3, 'UTC')}
  AND timestamp < {to:DateTime64(3, 'UTC')}
  AND (timestamp < hours_from OR timestamp >= hours_to)
  AND bot_reason = ''`;
const filteredSessionValues = `FROM tidemark.session_values
WHERE {filter:String} != ''
  AND project_id = {project:String}
  AND hour >= hours_from
  AND hour < hours_to
  {{filters}}`;
const edgeMinutes = `${edgeRows}
  AND ({filter:String} = '' OR reinterpretAsUInt128(sipHash128(session_id)) {{in_filtered_sessions}})`;
// A plain subquery: without a filter ClickHouse folds `'' = '' OR session IN (…)` and never runs it. A scalar
// subquery (groupArray, arrayJoined back) would be run once per query and shared by every view of a filtered
// query, but it is run without a filter too, and that cost every unfiltered panel 40–200 ms of CPU at 10M events.
const inFilteredSessions = `GLOBAL IN (
      SELECT session FROM tidemark.filtered_sessions(
          project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
          host = {host:String}, country = {country:String}, device_type = {device_type:String},
          filter = {filter:String}))`;

/**
 * The placeholders a migration file may use. One file serves both deployments; on a single server every
 * placeholder renders to what the file meant before clusters existed (nothing, or the plain engine).
 *
 * - `{{on_cluster}}` after the object name of every DDL: `ON CLUSTER name`, or nothing.
 * - `{{local}}` after a table name that stores rows: `_local` (the shard's replicated table), or nothing.
 * - `{{engine <table> <Engine>(<args>)}}`: `Replicated<Engine>('/clickhouse/tables/{shard}/tidemark/<table>_local',
 *   '{replica}', <args>)`, or `<Engine>(<args>)`.
 * - `{{distributed <table> <sharding key>}}` as a whole statement: the `Distributed` table `tidemark.<table>`
 *   over `tidemark.<table>_local`, or no statement.
 * - `{{cluster_only}}` before a statement: keep it only on a cluster (e.g. ADD COLUMN on the Distributed table
 *   as well as on the local one).
 * - `{{this_node}}` before a data statement that has no ON CLUSTER form (a backfill `INSERT … SELECT`): it runs
 *   once, on the node the migration talks to; one that reads a table under its single-server name (Distributed on
 *   a cluster) reaches every shard.
 *
 * And the pieces the parameterized views of the rollups share (a range from `{from}` to `{to}` and the
 * filters), written once here:
 * - `{{whole_hours}}` in a WITH clause: `from_hour`, `hours_from` and `hours_to`, the range's whole UTC hours.
 *   With a `{filter}` (store/sql/views/01_filtered_sessions.sql) a view reads them from a rollup that keeps the
 *   session (session_hours, session_values, web_vital_samples).
 * - `{{range_days}}` in a WITH clause after it: `from_day`, `days_from` and `days_to`, the whole UTC
 *   days among those hours, for a view that reads a daily rollup for them (`days_from = days_to` when none).
 * - `{{filters}}`: the host, country and device_type conditions, each off when its parameter is ''.
 * - `{{edge_minutes}}`: the WHERE of tidemark.events for the range's minutes outside its whole hours (a constant
 *   false when there are none), the project, bots left out, and only the filtered sessions' events when
 *   `{filter}` is set. `GLOBAL IN`: on a cluster both sides read Distributed tables, and ClickHouse refuses a
 *   distributed subquery inside a distributed query unless the set is built once and sent to the shards.
 * - `{{filtered_session_values}}`: FROM and WHERE of tidemark.session_values (041) for the whole hours with a
 *   `{filter}` (a constant false without one) and the host, country and device filters; the sessions the filter
 *   keeps are the caller's to check, with its edges.
 * - `{{edge_rows}}`: the same WHERE without the filtered sessions, for a view that checks them once for its
 *   edges and its rollup rows together: every reference to filtered_sessions costs its planning (~30 ms of
 *   CPU), filter or not.
 * - `{{in_filtered_sessions}}` after a session hash (`session`, or `reinterpretAsUInt128(sipHash128(session_id))`):
 *   `GLOBAL IN` the sessions `{filter}` keeps (store/sql/views/01_filtered_sessions.sql).
 */
export function renderSql(sql: string, opts: { cluster?: string } = {}): string[] {
  const { cluster } = opts;
  if (cluster !== undefined && !clusterName.test(cluster)) {
    throw new StoreError('config_invalid', `Not a cluster name: ${JSON.stringify(cluster)}`);
  }
  const onCluster = cluster ? `ON CLUSTER ${cluster}` : '';
  const rendered = sql
    .replaceAll('{{filtered_session_values}}', filteredSessionValues)
    .replaceAll('{{whole_hours}}', wholeHours)
    .replaceAll('{{range_days}}', rangeDays)
    .replaceAll('{{filters}}', filters)
    .replaceAll('{{edge_minutes}}', edgeMinutes)
    .replaceAll('{{edge_rows}}', edgeRows)
    .replaceAll('{{in_filtered_sessions}}', inFilteredSessions)
    .replace(/\{\{distributed (\w+) ([^}]+)\}\}/g, (_, table: string, key: string) =>
      cluster
        ? `CREATE TABLE IF NOT EXISTS tidemark.${table} ${onCluster} AS tidemark.${table}_local\n` +
          `ENGINE = Distributed(${cluster}, tidemark, ${table}_local, ${key.trim()})`
        : '',
    )
    .replace(/\{\{engine (\w+) (\w+)\(([^)]*)\)\}\}/g, (_, table: string, engine: string, args: string) => {
      if (!cluster) return `${engine}(${args})`;
      const replication = `'/clickhouse/tables/{shard}/tidemark/${table}_local', '{replica}'`;
      return `Replicated${engine}(${[replication, args.trim()].filter(Boolean).join(', ')})`;
    })
    .replaceAll('{{on_cluster}}', onCluster)
    .replaceAll('{{local}}', cluster ? '_local' : '');
  const statements: string[] = [];
  for (const statement of splitStatements(rendered)) {
    const clusterOnly = statement.startsWith('{{cluster_only}}');
    if (clusterOnly && !cluster) continue;
    const thisNode = statement.startsWith('{{this_node}}');
    const marker = clusterOnly ? '{{cluster_only}}' : thisNode ? '{{this_node}}' : '';
    const text = statement.slice(marker.length).trim();
    if (text.includes('{{')) {
      throw new StoreError('migration_failed', `Unknown placeholder in: ${text.slice(0, 200)}`);
    }
    // A DDL without ON CLUSTER would change one node only and leave the cluster inconsistent: refuse it.
    if (cluster && !thisNode && !text.includes(onCluster)) {
      throw new StoreError(
        'migration_failed',
        `Statement is not cluster-ready (add {{on_cluster}}): ${text.slice(0, 200)}`,
      );
    }
    statements.push(text);
  }
  return statements;
}

/**
 * The views the ready queries read (store/sql/views): not migrations but code, re-created by every `migrate` run
 * after the migrations (`CREATE OR REPLACE VIEW`), so a release changes them by editing their file. Rendered like
 * the migrations, in file order (a view before the views that read it).
 */
export async function renderViews(opts: RenderOptions = {}): Promise<RenderedMigration[]> {
  const dir = join(opts.dir ?? migrationsDir, 'views');
  if (!existsSync(dir)) return [];
  const files = (await readdir(dir)).filter((f) => migrationFile.test(f)).sort();
  return withUnfilteredTwins(await renderFiles(dir, files, 'views/', opts));
}

const createView = /^CREATE OR REPLACE VIEW tidemark\.(\w+)\b/;

/**
 * Adds, after each view that takes a `{filter:String}`, its twin `tidemark.<name>_unfiltered`: the same statement
 * with every view it reads that has a twin (tidemark.filtered_sessions among them, whose twin 01_filtered_sessions.sql
 * writes by hand) replaced by that twin. The query library runs a ready query without a filter against the
 * twins (queries/src/library.ts, `unfilteredSql`): the answer is the same, and ClickHouse no longer plans
 * filtered_sessions for every view the query names, ~30 ms of CPU each.
 */
function withUnfilteredTwins(rendered: RenderedMigration[]): RenderedMigration[] {
  const twinned = new Set<string>();
  for (const file of rendered) {
    for (const statement of file.statements) {
      const name = createView.exec(statement)?.[1];
      if (name?.endsWith('_unfiltered')) twinned.add(name.slice(0, -'_unfiltered'.length));
    }
  }
  const swap = (text: string) =>
    text.replace(/\btidemark\.(\w+)\(/g, (call, name: string) =>
      twinned.has(name) ? `tidemark.${name}_unfiltered(` : call,
    );
  return rendered.map((file) => {
    const statements: string[] = [];
    for (const statement of file.statements) {
      statements.push(statement);
      const name = createView.exec(statement)?.[1];
      if (
        !name ||
        twinned.has(name) ||
        name.endsWith('_unfiltered') ||
        !statement.includes('{filter:String}')
      )
        continue;
      twinned.add(name);
      statements.push(
        swap(statement.replace(createView, `CREATE OR REPLACE VIEW tidemark.${name}_unfiltered`)),
      );
    }
    return { ...file, statements };
  });
}

/** Reads and renders every migration file in numeric order, without touching ClickHouse. */
export async function renderMigrations(opts: RenderOptions = {}): Promise<RenderedMigration[]> {
  const dir = opts.dir ?? migrationsDir;
  const files = (await readdir(dir))
    .filter((f) => migrationFile.test(f))
    .sort((a, b) => Number(a.split('_')[0]) - Number(b.split('_')[0]) || a.localeCompare(b));
  return renderFiles(dir, files, '', opts);
}

/** Renders `files` of `dir` in the order given, each named `prefix` + its name (also in a render error). */
async function renderFiles(
  dir: string,
  files: readonly string[],
  prefix: string,
  opts: RenderOptions,
): Promise<RenderedMigration[]> {
  const rendered: RenderedMigration[] = [];
  for (const name of files) {
    const file = `${prefix}${name}`;
    const sql = await readFile(join(dir, name), 'utf8');
    try {
      rendered.push({ file, sql, statements: renderSql(sql, { cluster: opts.cluster }) });
    } catch (err) {
      if (err instanceof StoreError) {
        throw new StoreError(err.code, `${file}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
  return rendered;
}
