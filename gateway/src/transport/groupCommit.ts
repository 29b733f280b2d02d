import type { TransportMessage } from './types.js';

/** What the Kafka transports share: the messages in, and a wait for everything handed over to settle. */
export interface GroupCommit {
  /** Resolves when the produce request that carried these messages was acknowledged; rejects with its error. */
  deliver(messages: TransportMessage[]): Promise<void>;
  /** Resolves once nothing waits and nothing is in flight, so a producer can be closed without losing a send. */
  drain(): Promise<void>;
}

/**
 * At most ~1 MiB of JSON per produce request (gzip makes it far smaller): the broker's default limit per
 * record batch is 1 MB, and one partition's batch can get most of it.
 */
const MAX_GROUP_BYTES = 1024 * 1024;

type Waiting = {
  messages: TransportMessage[];
  bytes: number;
  resolve: () => void;
  reject: (e: unknown) => void;
};

/**
 * Group commit over any producer's `send` (a promise of one acks=all produce request).
 *
 * One produce request in flight keeps a visitor's events in order, also across a client's own retries; the
 * requests that arrive meanwhile wait together and leave as one produce request when it returns, each
 * answered when Kafka acknowledged that request. Under load a round trip carries many HTTP requests instead
 * of one, and an idle gateway still sends at once.
 */
export function createGroupCommit(send: (messages: TransportMessage[]) => Promise<unknown>): GroupCommit {
  let waiting: Waiting[] = [];
  let inFlight: Promise<void> | undefined;

  const sendWaiting = () => {
    let bytes = 0;
    let take = 0;
    while (take < waiting.length && (take === 0 || bytes + (waiting[take]?.bytes ?? 0) <= MAX_GROUP_BYTES)) {
      bytes += waiting[take]?.bytes ?? 0;
      take += 1;
    }
    const group = waiting.slice(0, take);
    waiting = waiting.slice(take);
    // A send that throws synchronously still rejects its group instead of escaping into the caller.
    inFlight = Promise.resolve()
      .then(() => send(group.flatMap((g) => g.messages)))
      .then(
        () => {
          for (const g of group) g.resolve();
        },
        (error: unknown) => {
          for (const g of group) g.reject(error);
        },
      )
      .finally(() => {
        inFlight = undefined;
        if (waiting.length > 0) sendWaiting();
      });
  };

  return {
    deliver(messages) {
      if (messages.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        waiting.push({ messages, bytes: messages.reduce((n, m) => n + m.value.length, 0), resolve, reject });
        if (!inFlight) sendWaiting();
      });
    },

    async drain() {
      while (inFlight) await inFlight;
    },
  };
}
