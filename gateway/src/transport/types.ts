/** One Kafka message: the rows of one request for one visitor (DESIGN §4). */
export interface TransportMessage {
  /** `projectId:anonymousId` (userId when there is no anonymousId). */
  key: string;
  /** JSONEachRow: `JSON.stringify(row) + '\n'` per row, read by ClickHouse without re-parsing. */
  value: string;
}

/**
 * Where accepted events go: Kafka in distributed mode, the store's writer in embedded mode, a recording
 * double in unit tests. `deliver` resolves only once the events are durable (Kafka acks=all, or the
 * ClickHouse insert returned): the gateway answers 200 only after it.
 */
export interface Transport {
  deliver(messages: TransportMessage[]): Promise<void>;
  /**
   * Keeps events the gateway refused, with why (DESIGN §4): the dead-letter topic in distributed mode, the
   * quarantine table in embedded mode. Resolves once they are durable; a retry may store them twice.
   */
  deadLetter(records: GatewayDeadLetter[]): Promise<void>;
  /** Resolves when the store behind the transport answers (Kafka metadata, or `SELECT 1`); rejects otherwise. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** One refused event as written to the dead-letter topic; the sink writes the same shape with `stage: 'sink'`. */
export interface GatewayDeadLetter {
  stage: 'gateway';
  /** The stable code also listed in the response (`invalid_type`, `too_large`, …). */
  reason: string;
  projectId: string;
  /** Position in the request's batch, and the client's messageId when it sent one. */
  index: number;
  messageId: string | null;
  /** The event exactly as received, as JSON text. */
  raw: string;
  /** When the gateway received it, ISO 8601. */
  at: string;
}

/** A Kafka transport also owns its start-up step, which needs the broker (start.ts calls it). */
export interface KafkaTransport extends Transport {
  /** Creates the events and dead-letter topics when missing, then connects the producer. */
  connect(): Promise<void>;
}
