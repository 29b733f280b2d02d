import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouse, createClickHouse } from '@tidemark/store';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { createReader } from './reader.js';
import { checkStatement, harmlessTableFunctions } from './statement.js';

// The statement check serves a short list of table functions after FROM and JOIN, and refuses the ones that read
// outside the analytics database by name wherever they stand. This asks the engine the gateway ships with (chDB)
// for every table function it has: each must be on the short list or be refused in both places, so a chDB
// upgrade that adds one is sorted here before it ships.
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

it('refuses every table function of the bundled engine except those that generate rows or wrap a subquery', async () => {
  const result = await clickhouse.read('SELECT name FROM system.table_functions ORDER BY name');
  const names = result.rows.map((row) => String(row[0]));
  expect(names).toContain('file');
  // Recorded here, judged below: a refusal must be the gateway's own error, not a crash of the check.
  const crashes: unknown[] = [];
  const passed = names.filter((name) => {
    if (harmlessTableFunctions.has(name.toLowerCase())) return false;
    return [`SELECT * FROM ${name}('x')`, `SELECT 1 FROM tidemark.events, ${name}('x')`].some((sql) => {
      try {
        checkStatement(sql);
        return true;
      } catch (error) {
        if (!(error instanceof GatewayError)) crashes.push(error);
        return false;
      }
    });
  });
  expect(passed).toEqual([]);
  expect(crashes).toEqual([]);
  const unknown = [...harmlessTableFunctions].filter((name) => !names.some((n) => n.toLowerCase() === name));
  expect(unknown, 'served table functions the engine does not have').toEqual([]);
});

it('has the engine refuse filesystem() on its own: chDB opens with grants for the analytics database only', async () => {
  const reader = createReader(clickhouse, { maxExecutionSeconds: 5, maxResultRows: 10, maxRowsToRead: 0 });
  await expect(
    reader.query("SELECT content FROM filesystem('/proc/self/status') LIMIT 1"),
  ).rejects.toMatchObject({
    code: 'query_failed',
    details: { clickhouse: { code: 497 } },
  });
  expect(() => checkStatement("SELECT content FROM filesystem('/proc/self/status')")).toThrow(GatewayError);
  expect(() => checkStatement("SELECT name FROM FileSystem('/etc')")).toThrow(GatewayError);
});
