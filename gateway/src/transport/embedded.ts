import type { Writer } from '@tidemark/sink';
import type { Transport, TransportMessage } from './types.js';

/**
 * Embedded mode (DESIGN §1): no Kafka, the sink's writer inserts in this process. Message values are
 * JSONEachRow already, so the request's rows are one concatenated insert body; `deliver` resolves when
 * the insert returned, which is when the gateway may answer 200.
 */
export function createEmbeddedTransport(writer: Writer): Transport {
  return {
    async deliver(messages: TransportMessage[]) {
      if (messages.length === 0) return;
      await writer.write(messages.map((m) => m.value).join(''));
    },
    // The writer owns no resource; the ClickHouse client it uses is closed by whoever created it.
    async close() {},
  };
}
