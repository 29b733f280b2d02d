import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { judgeDurability, loadConfig } from '@tidemark/gateway';
import { loadSinkConfig } from '@tidemark/sink';
import { expect, it } from 'vitest';
import { parse } from 'yaml';

// docker-compose.cluster.yml cannot run here (no Docker engine): this reads it as compose would (YAML with merge
// keys) and checks that what it describes holds together: the brokers form one quorum with the durability
// settings of DESIGN §4a, each gateway's environment is a configuration the gateway accepts without a durability
// warning, the proxy balances over exactly the gateway services, and the sinks are three of one group.
const root = join(import.meta.dirname, '..');
type Service = {
  image?: string;
  environment?: Record<string, string | number>;
  deploy?: { replicas?: number };
  volumes?: string[];
};
const compose = parse(readFileSync(join(root, 'docker-compose.cluster.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const env = (service: Service) =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));
const named = (prefix: string) =>
  Object.entries(compose.services).filter(([name]) => new RegExp(`^${prefix}-\\d+$`).test(name));

it('runs three brokers as one KRaft quorum with replication 3, min in-sync 2 and unclean election off', () => {
  const brokers = named('kafka');
  expect(brokers.map(([name]) => name)).toEqual(['kafka-1', 'kafka-2', 'kafka-3']);
  const envs = brokers.map(([, service]) => env(service));
  expect(new Set(envs.map((e) => e.KAFKA_NODE_ID))).toEqual(new Set(['1', '2', '3']));
  for (const [i, e] of envs.entries()) {
    // Every voter is a broker service of this file, listed by its own node id.
    expect(e.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe('1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093');
    expect(e.KAFKA_ADVERTISED_LISTENERS).toBe(`PLAINTEXT://kafka-${e.KAFKA_NODE_ID}:9092`);
    expect(e).toMatchObject({
      CLUSTER_ID: envs[0]?.CLUSTER_ID,
      KAFKA_DEFAULT_REPLICATION_FACTOR: '3',
      KAFKA_MIN_INSYNC_REPLICAS: '2',
      KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE: 'false',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '3',
    });
    // Its own volume: three brokers on one volume would be one disk.
    const volume = brokers[i]?.[1].volumes?.[0]?.split(':')[0] ?? '';
    expect(Object.keys(compose.volumes)).toContain(volume);
  }
  const volumes = brokers.map(([, service]) => service.volumes?.[0]);
  expect(new Set(volumes).size).toBe(3);
});

it('gives two gateways a configuration they accept without a durability warning, behind a round-robin HAProxy', () => {
  const gateways = named('gateway');
  expect(gateways).toHaveLength(2);
  for (const [, service] of gateways) {
    const config = loadConfig(env(service));
    expect(config.kafka.brokers).toEqual(['kafka-1:9092', 'kafka-2:9092', 'kafka-3:9092']);
    expect(config.kafka).toMatchObject({ replication: 3, minInsyncReplicas: 2 });
    expect(judgeDurability(config.mode, config.kafka)).toEqual({ problems: [], warnings: [] });
  }
  const proxy = compose.services.proxy;
  expect(proxy?.image).toMatch(/^haproxy:/);
  const mount = proxy?.volumes?.[0]?.split(':') ?? [];
  const cfg = readFileSync(join(root, mount[0] ?? 'missing'), 'utf8');
  expect(cfg).toMatch(/balance roundrobin/);
  const servers = [...cfg.matchAll(/^\s*server (\S+) (\S+):8787 check$/gm)].map((m) => m[2]);
  expect(servers).toEqual(gateways.map(([name]) => name));
});

it('runs three sinks of one consumer group reading the brokers the gateways write to', () => {
  const sink = compose.services.sink;
  expect(sink?.deploy?.replicas).toBe(3);
  const config = loadSinkConfig(env(sink ?? {}));
  expect(config.kafka).toMatchObject({
    brokers: ['kafka-1:9092', 'kafka-2:9092', 'kafka-3:9092'],
    groupId: 'tidemark-sink',
  });
});
