import type { KafkaConfig, Mode } from './config.js';

/**
 * What the topic settings mean for the gateway's 200 (DESIGN §4a). With acks=all, Kafka acknowledges a write
 * once every in-sync replica has it, and refuses it (NOT_ENOUGH_REPLICAS, a 503 here) while fewer than
 * `min.insync.replicas` are in sync; so an acknowledged event is on at least min ISR brokers, and survives the
 * loss of min ISR − 1 of them as long as unclean leader election stays off. Kafka's own advice, and what a
 * production cluster needs: replication factor 3, min ISR 2.
 */
export interface DurabilityVerdict {
  /** Settings that cannot work at all: the configuration is refused. */
  problems: string[];
  /** Settings that work but weaken the guarantee or availability: logged at start, with the reason. */
  warnings: string[];
}

/** Judges the replication settings the gateway creates its topics with. */
export function judgeDurability(
  mode: Mode,
  kafka: Pick<KafkaConfig, 'replication' | 'minInsyncReplicas'>,
): DurabilityVerdict {
  const { replication, minInsyncReplicas: minIsr } = kafka;
  const problems: string[] = [];
  const warnings: string[] = [];
  if (minIsr > replication) {
    problems.push(
      `TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS (${minIsr}) exceeds TIDEMARK_KAFKA_REPLICATION (${replication}): ` +
        'Kafka would refuse every write with NOT_ENOUGH_REPLICAS',
    );
    return { problems, warnings };
  }
  if (mode !== 'distributed') return { problems, warnings };
  if (replication === 1) {
    warnings.push(
      'TIDEMARK_KAFKA_REPLICATION is 1: each event acknowledged with 200 is on one broker only, and a lost ' +
        'disk loses it; production needs replication 3 with TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS 2',
    );
  } else if (minIsr === 1) {
    warnings.push(
      `TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS is 1 with replication ${replication}: Kafka acknowledges a write ` +
        'that only the leader holds while the other replicas are out of sync, and losing that broker then ' +
        'loses acknowledged events; use 2',
    );
  } else if (minIsr === replication) {
    warnings.push(
      `TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS equals the replication (${replication}): nothing is lost, but one ` +
        'broker down (a restart, an upgrade) stops every write with 503; use replication ' +
        `${replication + 1} or min in-sync ${replication - 1}`,
    );
  }
  return { problems, warnings };
}
