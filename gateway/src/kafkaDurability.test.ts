import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { judgeDurability } from './kafkaDurability.js';

const distributed = {
  TIDEMARK_MODE: 'distributed',
  TIDEMARK_WRITE_KEYS: 'k:p',
  KAFKA_BROKERS: 'a:9092,b:9092,c:9092',
};

describe('judgeDurability', () => {
  it('accepts replication 3 with min in-sync 2 silently: what production needs', () => {
    expect(judgeDurability('distributed', { replication: 3, minInsyncReplicas: 2 })).toEqual({
      problems: [],
      warnings: [],
    });
  });

  it('warns about replication 1 in distributed mode, saying a lost disk loses acknowledged events', () => {
    const { problems, warnings } = judgeDurability('distributed', { replication: 1, minInsyncReplicas: 1 });
    expect(problems).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/one broker only.*lost disk loses it/);
  });

  it('does not warn in embedded mode, which uses no Kafka', () => {
    expect(judgeDurability('embedded', { replication: 1, minInsyncReplicas: 1 }).warnings).toEqual([]);
  });

  it('warns about min in-sync 1 with replicas, and about min in-sync equal to the replication', () => {
    const one = judgeDurability('distributed', { replication: 3, minInsyncReplicas: 1 });
    expect(one.warnings[0]).toMatch(/only the leader holds/);
    const all = judgeDurability('distributed', { replication: 3, minInsyncReplicas: 3 });
    expect(all.problems).toEqual([]);
    expect(all.warnings[0]).toMatch(/one broker down .* stops every write/);
  });

  it('refuses min in-sync above the replication: every write would fail', () => {
    const { problems } = judgeDurability('distributed', { replication: 2, minInsyncReplicas: 3 });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/NOT_ENOUGH_REPLICAS/);
  });
});

describe('loadConfig: replication settings', () => {
  it('defaults min in-sync replicas to min(2, replication)', () => {
    expect(loadConfig(distributed).kafka).toMatchObject({ replication: 1, minInsyncReplicas: 1 });
    const three = loadConfig({ ...distributed, TIDEMARK_KAFKA_REPLICATION: '3' }).kafka;
    expect(three).toMatchObject({ replication: 3, minInsyncReplicas: 2 });
    const set = { ...distributed, TIDEMARK_KAFKA_REPLICATION: '5', TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS: '3' };
    expect(loadConfig(set).kafka).toMatchObject({ replication: 5, minInsyncReplicas: 3 });
  });

  it('refuses TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS above TIDEMARK_KAFKA_REPLICATION, naming both', () => {
    const env = { ...distributed, TIDEMARK_KAFKA_REPLICATION: '3', TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS: '4' };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(
      /MIN_INSYNC_REPLICAS \(4\) exceeds TIDEMARK_KAFKA_REPLICATION \(3\)/,
    );
  });
});
