import { parseArgs } from 'node:util';
import { createClickHouse } from './clickhouse.js';
import { loadClickHouseConfig } from './config.js';
import { StoreError } from './errors.js';
import { ttlStatement } from './eventsTtl.js';
import { type MigrateOptions, migrate } from './migrate.js';
import { renderMigrations } from './migrationRender.js';

// `pnpm --filter @tidemark/store migrate [--cluster name] [--ttl-days N] [--print]`: applies the migrations the
// sink applies at start, against CLICKHOUSE_URL (CLICKHOUSE_USER, CLICKHOUSE_PASSWORD, TLS files) or chDB in
// TIDEMARK_CHDB_PATH, exactly as the gateway and the sink read them. `--print` renders the SQL without connecting, e.g. to
// review what a cluster will run. TIDEMARK_CLICKHOUSE_CLUSTER and TIDEMARK_EVENTS_TTL_DAYS are the defaults
// of --cluster and --ttl-days.
const usage = 'usage: migrate [--cluster <name>] [--ttl-days <days>] [--print]';

function options(argv: string[], schema: MigrateOptions) {
  const { values } = parseArgs({
    args: argv,
    options: {
      cluster: { type: 'string' },
      'ttl-days': { type: 'string' },
      print: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const cluster = values.cluster ?? schema.cluster;
  const rawTtl = values['ttl-days'];
  if (rawTtl !== undefined && !/^[1-9]\d*$/.test(rawTtl)) {
    throw new StoreError(
      'config_invalid',
      `--ttl-days must be a positive integer, got ${JSON.stringify(rawTtl)}`,
    );
  }
  return {
    cluster,
    ttlDays: rawTtl === undefined ? schema.ttlDays : Number(rawTtl),
    print: values.print,
    help: values.help,
  };
}

async function main(): Promise<void> {
  // The environment as the gateway and the sink read it (ClickHouse, TLS, schema options).
  const config = loadClickHouseConfig(process.env);
  if (config.problems.length > 0) {
    throw new StoreError('config_invalid', `Invalid configuration:\n- ${config.problems.join('\n- ')}`);
  }
  const opts = options(process.argv.slice(2), config.schema);
  if (opts.help) {
    console.log(usage);
    return;
  }
  if (opts.print) {
    for (const { file, statements } of await renderMigrations({ cluster: opts.cluster })) {
      console.log(`-- ${file}`);
      for (const statement of statements) console.log(`${statement};\n`);
    }
    // Without a connection the current TTL is unknown: print the statement that sets the requested one.
    const ttl = opts.ttlDays === undefined ? undefined : ttlStatement('', opts.ttlDays, opts.cluster);
    if (ttl) console.log(`-- events TTL\n${ttl};`);
    return;
  }
  const clickhouse = createClickHouse(config.clickhouse);
  try {
    const { applied, ttl } = await migrate(clickhouse, { cluster: opts.cluster, ttlDays: opts.ttlDays });
    console.log(
      JSON.stringify({
        backend: clickhouse.backend,
        cluster: opts.cluster ?? null,
        applied,
        ttl: ttl ?? null,
      }),
    );
  } finally {
    await clickhouse.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
