import type { ClickHouse, Writer } from '@tidemark/store';
import { createGroupCommit } from './groupCommit.js';
import type { GatewayDeadLetter, Transport } from './types.js';

/**
 * Embedded mode (DESIGN §1): no Kafka, the store's writer inserts in this process. Message values are
 * JSONEachRow already, so rows are one concatenated insert body; `deliver` resolves when the insert that
 * carried them returned, which is when the gateway may answer 200. Requests that arrive while an insert runs
 * wait together and go in the next one (the group commit the Kafka transports use): ClickHouse's cost per
 * INSERT barely depends on its rows at these sizes, so one INSERT per request capped an embedded gateway at
 * a few dozen requests per second (bench/e2e.ts measured 1 000 events/s waiting 9.4 s on average for its
 * inserts on a busy machine). Refused events go to the quarantine table (topic `gateway`), the embedded
 * stand-in for the dead-letter topic.
 */
export function createEmbeddedTransport(opts: { writer: Writer; clickhouse: ClickHouse }): Transport {
  const { writer, clickhouse } = opts;
  const inserts = createGroupCommit((messages) => writer.write(messages.map((m) => m.value).join('')));
  return {
    deliver: inserts.deliver,
    async deadLetter(records: GatewayDeadLetter[]) {
      await writer.quarantine(
        records.map((r) => ({
          topic: 'gateway',
          error: `${r.reason} (project ${r.projectId}, index ${r.index})`,
          row: r.raw,
        })),
      );
    },
    async ready() {
      await clickhouse.query('SELECT 1');
    },
    // The writer owns no resource; the ClickHouse client it uses is closed by whoever created it, after this.
    async close() {
      await inserts.drain();
    },
  };
}
