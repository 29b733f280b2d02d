// A process for test/hostile-sql.test.ts: chDB with the grants given by `--access`, and the read API's reader over
// it on two paths, `/checked` (Reader.statement: the statement check, then the engine) and `/unchecked`
// (Reader.query: the engine alone). Started with secrets in its environment, it shows whether any statement can
// read them, with either fence alone. Prints `listening <url>` when ready.
//
//   node --import tsx test/support/sql-target.ts --data DIR --access writer|unrestricted
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createReader } from '@tidemark/gateway';
import { type ChdbAccess, createClickHouse, migrate } from '@tidemark/store';

const { values } = parseArgs({
  options: { data: { type: 'string' }, access: { type: 'string', default: 'writer' } },
});
if (!values.data) throw new Error('--data DIR is required');
const clickhouse = createClickHouse({ chdbPath: values.data, chdbAccess: values.access as ChdbAccess });
await migrate(clickhouse);
const reader = createReader(clickhouse, { maxExecutionSeconds: 5, maxResultRows: 1000, maxRowsToRead: 0 });

const server = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const { sql, params } = JSON.parse(body) as { sql: string; params?: Record<string, unknown> };
  try {
    const result =
      req.url === '/checked' ? await reader.statement(sql, params) : await reader.query(sql, params);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
  } catch (error) {
    const { status, code, message } = error as { status?: number; code?: string; message: string };
    res
      .writeHead(status ?? 500, { 'content-type': 'application/json' })
      .end(JSON.stringify({ code, message }));
  }
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.once('SIGTERM', () => {
  server.close();
  void reader.close().then(() => clickhouse.close());
});
