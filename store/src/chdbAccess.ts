import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What chDB's one user may do in this process. chDB (embedded mode, and the ClickHouse-over-HTTP stand-in of
 * scripts/clickhouse-http.ts) has no login: every statement runs as the engine's `default` user, which by
 * default holds every grant, the SOURCES ones included, so `file('/etc/passwd')`, `filesystem('/proc/self')`
 * (the process's environment, secrets and all) and `url('http://…')` all answer. These grants are the second
 * fence behind the read API's statement check, and hold without it.
 *
 * - `writer`: what Tidemark's own code needs (migrations, inserts, TTL, the read API): the analytics database
 *   only, and no SOURCES grant, so no statement in this process reads a file, a URL or another server.
 * - `reader`: the read-only user a ClickHouse server runs the read API as (clickhouse/initdb/001_reader.sql):
 *   SELECT on the analytics database and `readonly = 2`. For a stand-in that plays that server.
 * - `unrestricted`: chDB's own default, every grant. For tests that need to reach past the analytics database
 *   (other databases, SYSTEM statements), and to prove what the grants refuse.
 */
export type ChdbAccess = 'writer' | 'reader' | 'unrestricted';

/** The analytics database (DESIGN §5). */
const database = 'tidemark';

const grants: Record<Exclude<ChdbAccess, 'unrestricted'>, string[]> = {
  writer: [
    // DETACH and ATTACH are DROP TABLE and CREATE TABLE grants; SHOW lets SHOW TABLES list them.
    `GRANT SELECT, INSERT, ALTER, CREATE TABLE, CREATE VIEW, DROP TABLE, DROP VIEW, TRUNCATE, OPTIMIZE, SHOW ON ${database}.*`,
    `GRANT CREATE DATABASE ON ${database}.*`,
  ],
  reader: [`GRANT SELECT ON ${database}.*`],
};

const profiles: Record<Exclude<ChdbAccess, 'unrestricted'>, string> = {
  writer: '',
  reader: '<readonly>2</readonly>',
};

/**
 * Writes the engine configuration that gives chDB's user the grants of `access` into `dataDir`, and answers the
 * engine arguments that load it (chdb's Session `connectionArgs`). Nothing for `unrestricted`. The files are
 * written anew on every start, so a change of grants here takes effect at the next start.
 */
export function chdbAccessArgs(dataDir: string, access: ChdbAccess): string[] {
  if (access === 'unrestricted') return [];
  const users = join(dataDir, 'tidemark-users.xml');
  const config = join(dataDir, 'tidemark-chdb.xml');
  writeFileSync(
    users,
    `<clickhouse>
  <users>
    <default>
      <password></password>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <grants>
${grants[access].map((grant) => `        <query>${grant}</query>`).join('\n')}
      </grants>
    </default>
  </users>
  <profiles><default>${profiles[access]}</default></profiles>
  <quotas><default /></quotas>
</clickhouse>
`,
  );
  // users.xml storage is read-only to SQL: no statement can add a user or a grant.
  writeFileSync(
    config,
    `<clickhouse>
  <user_directories replace="replace"><users_xml><path>${xmlText(users)}</path></users_xml></user_directories>
</clickhouse>
`,
  );
  return [`--config-file=${config}`];
}

function xmlText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
