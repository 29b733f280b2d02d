import type { ClickHouse, Erasure, EventRow, Regulation, RegulationType, SubjectType } from '@tidemark/store';
import type { FastifyBaseLogger } from 'fastify';

/** A regulation request as `POST /v1/regulations` takes it, validated. */
export type RegulationRequest = {
  regulationType: RegulationType;
  subjectType: SubjectType;
  subjectIds: string[];
  requestedBy: string;
};

/**
 * Regulations on this gateway (DESIGN §5b): records and carries them out, answers their progress, exports a
 * person's events, and says which events to drop before the transport.
 */
export interface Regulator {
  /** Records the regulation durably, then carries it out in the background; resolves once it is recorded. */
  create(request: RegulationRequest): Promise<Regulation>;
  /** Rejects with the store's `regulation_not_found`. */
  get(id: string): Promise<Regulation & { log: { at: string; step: string; detail: string }[] }>;
  /** A person's events, all columns, as JSON lines (the right of access). */
  exportPerson(project: string, person: string): Promise<string>;
  /** Whether a row belongs to a subject whose events are dropped (from the last refresh of the erased ids). */
  drops(row: EventRow): boolean;
  /** Re-reads the erased ids now. */
  refresh(): Promise<void>;
  /**
   * Stops the refresh timer. A regulation in progress is not waited for (it may be sleeping before a sweep): it
   * stays RUNNING and the next start resumes it, every step being safe to repeat.
   */
  close(): Promise<void>;
}

export type RegulatorOptions = {
  /** Wait before each sweep after the first deletion (`runRegulation`'s settleMs). */
  settleMs: number;
  /** How often every gateway re-reads the erased ids (TIDEMARK_ERASURE_REFRESH_MS). */
  refreshMs: number;
  logger: FastifyBaseLogger;
};

/**
 * A regulator over a writable ClickHouse. It resumes unfinished regulations when created (a gateway killed while
 * one ran), and re-reads tidemark.erased_ids every `refreshMs` so that a regulation received by another gateway
 * applies here too. Between refreshes a suppressed subject's event may pass this gateway; the sink (or the
 * embedded writer) reads the table on every insert and leaves it out there.
 */
export async function createRegulator(ch: ClickHouse, opts: RegulatorOptions): Promise<Regulator> {
  const store = await import('@tidemark/store');
  let erasures: ReadonlyMap<string, Erasure> = new Map();
  const running = new Map<string, Promise<unknown>>();
  let closed = false;
  /** Devices this gateway recorded as an erased person's (see `drops`), so each is written once. */
  const recorded = new Set<string>();

  const refresh = async () => {
    erasures = await store.loadErasures(ch);
    // A finished regulation that inserts (or this gateway's drops) have since found more ids for runs again.
    for (const id of await store.reopenRegulations(ch)) {
      if (running.has(id)) continue;
      opts.logger.info({ regulation: id }, 'regulation reopened: ids found after it finished');
      run(id);
    }
  };
  const run = (id: string) => {
    const job: Promise<unknown> = store
      .runRegulation(ch, id, { settleMs: opts.settleMs })
      .then(
        (done) => opts.logger.info({ regulation: id, removed: done.removed }, 'regulation finished'),
        (error) => opts.logger.error({ regulation: id, err: error }, 'regulation failed; resumed on restart'),
      )
      .finally(() => {
        running.delete(id);
        if (!closed) void refresh().catch(() => {});
      });
    running.set(id, job);
  };

  await refresh();
  for (const reg of await store.unfinishedRegulations(ch)) {
    if (running.has(reg.id)) continue;
    opts.logger.info({ regulation: reg.id, status: reg.status }, 'resuming regulation');
    run(reg.id);
  }
  const timer = setInterval(() => {
    refresh().catch((error) => opts.logger.warn({ err: error }, 'could not re-read the erased ids'));
  }, opts.refreshMs);
  timer.unref();

  return {
    async create(request) {
      const reg = await store.createRegulation(ch, request);
      run(reg.id);
      return reg;
    },
    async get(id) {
      const reg = await store.getRegulation(ch, id);
      return { ...reg, log: await store.regulationLog(ch, id) };
    },
    exportPerson: (project, person) => store.personEvents(ch, project, person),
    drops(row) {
      if (erasures.size === 0) return false;
      const line = JSON.stringify(row);
      if (!store.isErased(line, erasures)) return false;
      // A dropped row of an erased user may reveal a device of theirs the regulation could not know (its
      // identify arrives only now): record it, or that device's earlier anonymous events would stay.
      const links = store.erasedLinks([line], erasures).filter((l) => !recorded.has(l.anonymousId));
      if (links.length > 0) {
        for (const l of links) recorded.add(l.anonymousId);
        store
          .recordErasedLinks(ch, links)
          .catch((error) => opts.logger.warn({ err: error }, 'could not record an erased device'));
      }
      return true;
    },
    refresh,
    async close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
