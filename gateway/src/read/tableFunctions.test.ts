import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouse, createClickHouse } from '@tidemark/sink';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { createReader } from './reader.js';
import { checkStatement } from './statement.js';

// The statement check refuses table functions by name, so a name it does not know passes. This asks the engine
// the gateway ships with (chDB) for every table function it has: each must be one known to read nothing outside
// the analytics database, or be refused. A chDB upgrade that adds one fails here until it is sorted.
let dir: string;
let clickhouse: ClickHouse;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-table-functions-'));
  clickhouse = createClickHouse({ chdbPath: dir });
});

afterAll(async () => {
  await clickhouse?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Generate rows, wrap a subquery (which the check reads like the rest of the statement), or parse a literal. */
const harmless = new Set([
  'numbers',
  'numbers_mt',
  'zeros',
  'zeros_mt',
  'primes',
  'generaterandom',
  'generateseries',
  'generate_series',
  'values',
  'sqlstandardvalues',
  'null',
  'format',
  'view',
  'viewexplain',
  'viewifpermitted',
]);

it('refuses every table function of the bundled engine except those that generate rows or wrap a subquery', async () => {
  const result = await clickhouse.read('SELECT name FROM system.table_functions ORDER BY name');
  const names = result.rows.map((row) => String(row[0]));
  expect(names).toContain('file');
  const passed = names.filter((name) => {
    if (harmless.has(name.toLowerCase())) return false;
    try {
      checkStatement(`SELECT * FROM ${name}('x')`);
      return true;
    } catch (error) {
      expect(error).toBeInstanceOf(GatewayError);
      return false;
    }
  });
  expect(passed).toEqual([]);
});

it('needs the check for filesystem(): readonly = 2 alone lets it read a file', async () => {
  const reader = createReader(clickhouse, { maxExecutionSeconds: 5, maxResultRows: 10, maxRowsToRead: 0 });
  const read = await reader.query("SELECT content FROM filesystem('/proc/self/status') LIMIT 1");
  expect(String(read.rows[0]?.[0])).toContain('Pid:');
  expect(() => checkStatement("SELECT content FROM filesystem('/proc/self/status')")).toThrow(GatewayError);
  expect(() => checkStatement("SELECT name FROM FileSystem('/etc')")).toThrow(GatewayError);
});
