/** When sends run: one at a time, now or after a delay. */
export interface FlushScheduler {
  /** Sends now; or after the send under way, if there is one (it may have read the store too early). */
  send(force: boolean): Promise<void>;
  /** Sends (without forcing) in `delay` ms, unless a send is already due sooner. */
  schedule(delay: number): void;
}

/**
 * Runs `run` (a send) one at a time, which keeps batches in order and requests few, and on a single timer.
 * A failed `run` is logged: `send` never rejects.
 */
export function createFlushScheduler(
  run: (force: boolean) => Promise<void>,
  log: (...args: unknown[]) => void,
): FlushScheduler {
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** When `timer` fires; 0 when no timer is set. */
  let due = 0;
  /** The send under way, if any. */
  let running: Promise<void> | undefined;

  function send(force: boolean): Promise<void> {
    if (running) return running.then(() => send(force));
    // `then` after `catch`: it runs whether the send failed or not.
    running = run(force)
      .catch(log)
      .then(() => {
        running = undefined;
      });
    return running;
  }

  function schedule(delay: number) {
    const at = Date.now() + delay;
    if (due && due <= at) return;
    clearTimeout(timer);
    due = at;
    timer = setTimeout(() => {
      due = 0;
      void send(false);
    }, delay);
  }

  return { send, schedule };
}
