import { afterEach, expect, it, vi } from 'vitest';
import { createFlushScheduler } from './flushScheduler.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A send that records when it starts and ends, and ends when the test says. */
function recordingRun() {
  const calls: string[] = [];
  const finish: Array<() => void> = [];
  const run = (force: boolean) => {
    calls.push(`start ${force}`);
    return new Promise<void>((resolve) =>
      finish.push(() => {
        calls.push(`end ${force}`);
        resolve();
      }),
    );
  };
  return { calls, finish, run };
}

it('runs one send at a time: a send asked for during another starts after it', async () => {
  const { calls, finish, run } = recordingRun();
  const { send } = createFlushScheduler(run, () => {});
  const first = send(false);
  const second = send(true);
  await Promise.resolve();
  expect(calls).toEqual(['start false']);
  finish.shift()?.();
  await first;
  await vi.waitFor(() => expect(calls).toEqual(['start false', 'end false', 'start true']));
  finish.shift()?.();
  await second;
  expect(calls).toEqual(['start false', 'end false', 'start true', 'end true']);
});

it('logs a failed send instead of rejecting', async () => {
  const log = vi.fn();
  const { send } = createFlushScheduler(() => Promise.reject(new Error('boom')), log);
  await expect(send(false)).resolves.toBeUndefined();
  expect(log).toHaveBeenCalledWith(new Error('boom'));
});

it('keeps the sooner of two scheduled sends, and sends without forcing', async () => {
  vi.useFakeTimers();
  const { calls, finish, run } = recordingRun();
  const { schedule } = createFlushScheduler(run, () => {});
  schedule(1000);
  schedule(5000);
  schedule(200);
  await vi.advanceTimersByTimeAsync(199);
  expect(calls).toEqual([]);
  await vi.advanceTimersByTimeAsync(1);
  expect(calls).toEqual(['start false']);
  finish.shift()?.();
  await vi.advanceTimersByTimeAsync(10_000);
  expect(calls).toEqual(['start false', 'end false']);
});
