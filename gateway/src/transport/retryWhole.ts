/** How often and how soon a failed send is tried again. */
export interface RetryPolicy {
  retries: number;
  initialRetryTime: number;
  maxRetryTime: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `send` again after a failure that `retriable` accepts, whole, with exponential back-off: every attempt
 * is a fresh call carrying every message.
 *
 * Why not kafkajs' own retries: within one `producer.send`, kafkajs remembers which brokers answered and, on a
 * retry, sends only to leaders that have not answered yet (src/producer/sendMessages.js, `responsePerBroker`).
 * When a leader moves between the attempts (a broker restarting, a rebalance), a failed partition's new leader is
 * often a broker that already answered for its own partitions, so the failed partition's messages are never
 * sent again, and the send resolves as if they had been written: acknowledged events missing from Kafka
 * (chaos/scenarios/cluster-faults.ts, clusterRollingRestart, found them). A fresh send per attempt resends
 * what the first attempt did store, too; those copies keep their event ids and are deduplicated (DESIGN §6.4).
 */
export async function retryWhole<T>(
  send: () => Promise<T>,
  retriable: (error: unknown) => boolean,
  policy: RetryPolicy,
): Promise<T> {
  let wait = policy.initialRetryTime;
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= policy.retries || !retriable(error)) throw error;
    }
    await sleep(wait * (0.8 + Math.random() * 0.4));
    wait = Math.min(wait * 2, policy.maxRetryTime);
  }
}
