import type { Admin } from 'kafkajs';
import { makeRow } from '../../sink/src/row.fixture.js';

/** Offsets the group committed on the topic, summed over partitions (a partition with none counts 0). */
export async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/** Messages in the topic past what the group committed, summed over partitions: 0 once all is stored. */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  let behind = 0;
  for (const end of ends) {
    const done = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
    behind += Number(end.high) - Math.max(0, Number(done));
  }
  return behind;
}

/**
 * Events `from` … `to - 1` of `project` as the gateway produces them: the rows of one request for one visitor
 * per message (`rowsPerMessage` each), keyed `project:visitor`; every row's properties carry its number `n`.
 */
export function gatewayMessages(
  project: string,
  from: number,
  to: number,
  rowsPerMessage: number,
): { key: string; value: string }[] {
  const messages = [];
  for (let i = from; i < to; i += rowsPerMessage) {
    const visitor = `visitor-${i % 997}`;
    let value = '';
    for (let j = i; j < Math.min(to, i + rowsPerMessage); j++) {
      value += `${JSON.stringify(makeRow({ project_id: project, anonymous_id: visitor, properties: `{"n":${j}}` }))}\n`;
    }
    messages.push({ key: `${project}:${visitor}`, value });
  }
  return messages;
}
