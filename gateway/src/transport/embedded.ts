import type { ClickHouse, Writer } from '@tidemark/sink';
import type { GatewayDeadLetter, Transport, TransportMessage } from './types.js';

/**
 * Embedded mode (DESIGN §1): no Kafka, the sink's writer inserts in this process. Message values are
 * JSONEachRow already, so the request's rows are one concatenated insert body; `deliver` resolves when
 * the insert returned, which is when the gateway may answer 200. Refused events go to the quarantine table
 * (topic `gateway`), the embedded stand-in for the dead-letter topic.
 */
export function createEmbeddedTransport(opts: { writer: Writer; clickhouse: ClickHouse }): Transport {
  const { writer, clickhouse } = opts;
  return {
    async deliver(messages: TransportMessage[]) {
      if (messages.length === 0) return;
      await writer.write(messages.map((m) => m.value).join(''));
    },
    async deadLetter(records: GatewayDeadLetter[]) {
      if (records.length === 0) return;
      const rows = records.map((r) =>
        JSON.stringify({
          topic: 'gateway',
          error: `${r.reason} (project ${r.projectId}, index ${r.index})`,
          row: r.raw,
        }),
      );
      await clickhouse.insertJsonEachRow('tidemark.events_quarantine', `${rows.join('\n')}\n`);
    },
    async ready() {
      await clickhouse.query('SELECT 1');
    },
    // The writer owns no resource; the ClickHouse client it uses is closed by whoever created it.
    async close() {},
  };
}
