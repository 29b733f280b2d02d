import cluster, { type Worker } from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import {
  AggregatorRegistry,
  Counter,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from 'prom-client';
import type { Config } from './config.js';
import type { LiveBroadcaster, LiveEvent } from './live/broadcaster.js';

/**
 * Metrics: a worker asks its primary for every worker's (request, answer); the primary collects each listening
 * worker's registry as JSON (collect, collected) and sums them.
 */
const METRICS_REQUEST = 'tidemark:metrics';
const METRICS_ANSWER = 'tidemark:metrics-answer';
const METRICS_COLLECT = 'tidemark:metrics-collect';
const METRICS_COLLECTED = 'tidemark:metrics-collected';
/** How long the primary waits for a worker's registry; one that has not answered by then is left out. */
const COLLECT_TIMEOUT_MS = 2_000;
/** Live feed: a worker's open subscriptions (to the primary), the others' (from it), accepted events (both ways). */
const LIVE_SIZE = 'tidemark:live-size';
const LIVE_ELSEWHERE = 'tidemark:live-elsewhere';
const LIVE_EVENTS = 'tidemark:live-events';

type LiveMessage =
  | { type: typeof LIVE_SIZE; size: number }
  | { type: typeof LIVE_ELSEWHERE; size: number }
  | { type: typeof LIVE_EVENTS; events: LiveEvent[] };

type MetricsMessage =
  | { type: typeof METRICS_REQUEST; id: number }
  | { type: typeof METRICS_ANSWER; id: number; text?: string; error?: string }
  | { type: typeof METRICS_COLLECT; id: number }
  | { type: typeof METRICS_COLLECTED; id: number; json: MetricObjectWithValues<MetricValue<string>>[] };

/** A running primary: its workers' count now, and a graceful stop of all of them. */
export interface Primary {
  workers(): number;
  /** SIGTERM to every worker (each closes as a single gateway does: drains its producer), then waits for all. */
  close(): Promise<void>;
  /** Resolves once every worker has exited, true when all of them exited cleanly. */
  done: Promise<boolean>;
}

/**
 * The primary of a gateway of `config.workers` processes (node:cluster): it forks the workers, which run the
 * whole gateway (server.ts) and share the port, the primary handing each new connection to the next worker in
 * turn. Each worker has its own producer, so a request waits for its own worker's group commit only.
 *
 * A worker that exits before it listened (a bad setting, the broker unreachable at start) stops the gateway
 * with exit code 1: every worker would fail the same way, and forking them again would loop. One that exits
 * later (out of memory, a crash) is replaced, so the port keeps its capacity; its unanswered requests were
 * never acknowledged and their clients resend them.
 */
export function startPrimary(config: Config, logger: Logger): Primary {
  const listening = new Set<Worker>();
  let closing = false;
  let failed = false;
  let finish: (clean: boolean) => void = () => {};
  const done = new Promise<boolean>((resolve) => {
    finish = resolve;
  });

  // Every listening worker's registry summed per series (prom-client's cluster aggregation), so a scrape of the
  // shared port counts the whole gateway, whichever worker it reached. A worker still starting is left out.
  const collected = new Map<number, (json: MetricObjectWithValues<MetricValue<string>>[]) => void>();
  let collectId = 0;
  const collectMetrics = async () => {
    const registries = await Promise.all(
      [...listening].map(
        (worker) =>
          new Promise<MetricObjectWithValues<MetricValue<string>>[] | undefined>((resolve) => {
            collectId += 1;
            const id = collectId;
            const timer = setTimeout(() => {
              collected.delete(id);
              resolve(undefined);
            }, COLLECT_TIMEOUT_MS);
            timer.unref();
            collected.set(id, (json) => {
              clearTimeout(timer);
              collected.delete(id);
              resolve(json);
            });
            if (worker.isConnected()) worker.send({ type: METRICS_COLLECT, id } satisfies MetricsMessage);
          }),
      ),
    );
    return AggregatorRegistry.aggregate(registries.filter((r) => r !== undefined)).metrics();
  };

  // Open live subscriptions per worker, and what each worker was last told about the others'.
  const watching = new Map<Worker, number>();
  const told = new Map<Worker, number>();
  const tellElsewhere = () => {
    const total = [...watching.values()].reduce((sum, n) => sum + n, 0);
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker === undefined || !worker.isConnected()) continue;
      const elsewhere = total - (watching.get(worker) ?? 0);
      if (told.get(worker) === elsewhere) continue;
      told.set(worker, elsewhere);
      worker.send({ type: LIVE_ELSEWHERE, size: elsewhere } satisfies LiveMessage);
    }
  };

  const fork = () => {
    const worker = cluster.fork();
    worker.once('listening', () => listening.add(worker));
    worker.on('message', (message: unknown) => {
      if (isLiveMessage(message)) {
        if (message.type === LIVE_SIZE) {
          watching.set(worker, message.size);
          tellElsewhere();
        } else if (message.type === LIVE_EVENTS) {
          for (const [other, size] of watching) {
            if (other !== worker && size > 0 && other.isConnected()) other.send(message);
          }
        }
        return;
      }
      if (!isMetricsMessage(message)) return;
      if (message.type === METRICS_COLLECTED) collected.get(message.id)?.(message.json);
      if (message.type !== METRICS_REQUEST) return;
      // A worker that went away meanwhile has nobody to answer (and a send to it would be an error event).
      const answer = (reply: MetricsMessage) => {
        if (worker.isConnected()) worker.send(reply);
      };
      collectMetrics().then(
        (text) => answer({ type: METRICS_ANSWER, id: message.id, text }),
        (error: unknown) => answer({ type: METRICS_ANSWER, id: message.id, error: String(error) }),
      );
    });
  };

  cluster.on('exit', (worker, code, signal) => {
    const listened = listening.delete(worker);
    watching.delete(worker);
    told.delete(worker);
    tellElsewhere();
    const clean = code === 0 && signal === null;
    if (!clean) failed = true;
    if (!closing && !listened) {
      logger.error({ pid: worker.process.pid, code, signal }, 'gateway worker failed to start: stopping');
      void primary.close();
    } else if (!closing) {
      logger.error({ pid: worker.process.pid, code, signal }, 'gateway worker exited: starting another');
      failed = false;
      fork();
    }
    if (Object.keys(cluster.workers ?? {}).length === 0 && closing) finish(!failed);
  });

  const primary: Primary = {
    workers: () => Object.keys(cluster.workers ?? {}).length,
    async close() {
      if (!closing) {
        closing = true;
        const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
        if (workers.length === 0) finish(!failed);
        for (const worker of workers) worker.process.kill('SIGTERM');
      }
      await done;
    },
    done,
  };
  // The first worker creates the topics (transport connect) and waits for their leaders; the others start once
  // it listens, so none of them produces to a partition whose leader it cannot know yet.
  fork();
  cluster.once('listening', () => {
    for (let n = 1; n < config.workers && !closing; n += 1) fork();
  });
  logger.info({ workers: config.workers, pid: process.pid }, 'tidemark gateway primary started its workers');
  return primary;
}

/**
 * In a worker: counts its answers by its pid (`tidemark_gateway_worker_requests_total{worker}`), so the summed
 * metrics show how the port spreads requests over the workers.
 */
export function countWorkerRequests(app: FastifyInstance, registry: Registry): void {
  const answers = new Counter({
    name: 'tidemark_gateway_worker_requests_total',
    help: 'HTTP answers by gateway worker (process id), when several workers share the port.',
    labelNames: ['worker'],
    registers: [registry],
  }).labels({ worker: String(process.pid) });
  app.addHook('onResponse', async () => answers.inc());
}

/**
 * In a worker: answers prom-client's aggregation requests with `registry`, and returns what `/metrics` serves,
 * the metrics of every worker summed by the primary.
 */
export function workerMetrics(registry: Registry): () => Promise<string> {
  let next = 0;
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  process.on('message', (message: unknown) => {
    if (!isMetricsMessage(message)) return;
    if (message.type === METRICS_COLLECT) {
      registry.getMetricsAsJSON().then((json) => {
        if (process.connected) {
          process.send?.({ type: METRICS_COLLECTED, id: message.id, json } satisfies MetricsMessage);
        }
      });
      return;
    }
    if (message.type !== METRICS_ANSWER) return;
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.text !== undefined) pending?.resolve(message.text);
    else pending?.reject(new Error(message.error ?? 'no metrics from the primary'));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      if (!process.connected) {
        reject(new Error('this gateway worker has left its primary'));
        return;
      }
      next += 1;
      waiting.set(next, { resolve, reject });
      process.send?.({ type: METRICS_REQUEST, id: next } satisfies MetricsMessage);
    });
}

/**
 * In a worker: the live feed of the whole gateway (`GET /v1/live`). `local` serves this worker's subscriptions;
 * the events this worker accepts go to the primary, which hands them to the workers that have subscriptions, and
 * theirs come back the same way, so a watcher sees every accepted event whichever worker it reached. Only while
 * some worker has a subscription does anything cross between processes. A worker reports its own count when a
 * subscription opens and every 500 ms, so events from other workers can start up to that late after one opens
 * elsewhere. `size` counts every worker's subscriptions: ingest skips the feed when it is 0.
 */
export function workerLive(local: LiveBroadcaster): LiveBroadcaster {
  let elsewhere = 0;
  let reported = 0;
  const report = () => {
    if (local.size === reported || !process.connected) return;
    reported = local.size;
    process.send?.({ type: LIVE_SIZE, size: reported } satisfies LiveMessage);
  };
  const timer = setInterval(report, 500);
  timer.unref();
  process.on('message', (message: unknown) => {
    if (!isLiveMessage(message)) return;
    if (message.type === LIVE_ELSEWHERE) elsewhere = message.size;
    else if (message.type === LIVE_EVENTS && local.size > 0) local.publish(message.events);
  });
  return {
    get size() {
      return local.size + elsewhere;
    },
    publish(events) {
      if (local.size > 0) local.publish(events);
      if (elsewhere > 0 && process.connected) {
        process.send?.({ type: LIVE_EVENTS, events: [...events] } satisfies LiveMessage);
      }
    },
    subscribe(opts) {
      const subscription = local.subscribe(opts);
      report();
      return subscription;
    },
    close() {
      clearInterval(timer);
      local.close();
      report();
    },
  };
}

function isLiveMessage(message: unknown): message is LiveMessage {
  const type = typeof message === 'object' && message !== null ? (message as LiveMessage).type : undefined;
  return type === LIVE_SIZE || type === LIVE_ELSEWHERE || type === LIVE_EVENTS;
}

function isMetricsMessage(message: unknown): message is MetricsMessage {
  const type = typeof message === 'object' && message !== null ? (message as MetricsMessage).type : undefined;
  return (
    type === METRICS_REQUEST ||
    type === METRICS_ANSWER ||
    type === METRICS_COLLECT ||
    type === METRICS_COLLECTED
  );
}
