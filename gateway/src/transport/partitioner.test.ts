import { randomUUID } from 'node:crypto';
import { compatibilityPartitioner, defaultPartitioner } from '@platformatic/kafka';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';

// A visitor's events stay in order only while every gateway puts its key on the same partition (DESIGN §4),
// also while kafkajs and @platformatic/kafka gateways run side by side during a switch.
const keys = Array.from({ length: 2000 }, (_, i) => `project-${i % 7}:${randomUUID()}`);
const kafkajs = Partitioners.DefaultPartitioner();

function kafkajsPartition(key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));
  return kafkajs({ topic: 't', partitionMetadata, message: { key, value: '' } });
}

describe('the platformatic transport partitioner', () => {
  it('puts every key on the partition kafkajs (and the Java client) puts it on', () => {
    for (const partitions of [1, 3, 6, 12, 7]) {
      for (const key of keys) {
        const platformatic = compatibilityPartitioner({ topic: 't' }, Buffer.from(key)) % partitions;
        expect(platformatic, `${key} over ${partitions} partitions`).toBe(kafkajsPartition(key, partitions));
      }
    }
  });

  it("is needed: the client's default partitioner moves keys whose hash is negative", () => {
    const moved = keys.filter(
      (key) => defaultPartitioner({ topic: 't' }, Buffer.from(key)) % 6 !== kafkajsPartition(key, 6),
    );
    expect(moved.length).toBeGreaterThan(0);
  });
});
