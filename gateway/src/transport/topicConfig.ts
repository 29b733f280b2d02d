import type { KafkaConfig } from '../config.js';

/**
 * The configuration the gateway creates its topics with, whatever the broker's defaults: an acknowledged write
 * is on `min.insync.replicas` brokers, and a replica that fell behind is never elected leader (an unclean
 * election truncates what the others acknowledged). Topics that already exist keep their own settings.
 */
export function topicConfig(
  settings: Pick<KafkaConfig, 'minInsyncReplicas'>,
): { name: string; value: string }[] {
  return [
    { name: 'min.insync.replicas', value: String(settings.minInsyncReplicas) },
    { name: 'unclean.leader.election.enable', value: 'false' },
  ];
}
