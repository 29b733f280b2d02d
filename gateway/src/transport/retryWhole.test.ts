import { describe, expect, it } from 'vitest';
import { retryWhole } from './retryWhole.js';

class Transient extends Error {}
const policy = { retries: 3, initialRetryTime: 1, maxRetryTime: 4 };
const transient = (error: unknown) => error instanceof Transient;

describe('retryWhole', () => {
  it('calls the send again, whole, after a retriable failure, and resolves with its result', async () => {
    const calls: string[][] = [];
    const messages = ['a', 'b', 'c'];
    const result = await retryWhole(
      async () => {
        calls.push([...messages]);
        if (calls.length < 3) throw new Transient('leader moved');
        return 'stored';
      },
      transient,
      policy,
    );
    expect(result).toBe('stored');
    expect(calls).toEqual([messages, messages, messages]);
  });

  it('fails at once on an error that is not retriable', async () => {
    let calls = 0;
    const send = async () => {
      calls++;
      throw new Error('message too large');
    };
    await expect(retryWhole(send, transient, policy)).rejects.toThrow('message too large');
    expect(calls).toBe(1);
  });

  it('gives up after the policy’s retries with the last error', async () => {
    let calls = 0;
    const send = async () => {
      calls++;
      throw new Transient(`attempt ${calls}`);
    };
    await expect(retryWhole(send, transient, policy)).rejects.toThrow('attempt 4');
    expect(calls).toBe(4);
  });
});
