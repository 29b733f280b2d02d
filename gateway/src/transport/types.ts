/** One Kafka message: the rows of one request for one visitor (DESIGN §4). */
export interface TransportMessage {
  /** `projectId:anonymousId` (userId when there is no anonymousId). */
  key: string;
  /** JSONEachRow: `JSON.stringify(row) + '\n'` per row, read by ClickHouse without re-parsing. */
  value: string;
}

/**
 * Where accepted events go: Kafka in distributed mode, the sink's writer in embedded mode, a recording
 * double in unit tests. `deliver` resolves only once the events are durable (Kafka acks=all, or the
 * ClickHouse insert returned): the gateway answers 200 only after it.
 */
export interface Transport {
  deliver(messages: TransportMessage[]): Promise<void>;
  close(): Promise<void>;
}
