import { describe, expect, it } from 'vitest';
import { createBroadcaster, type LiveEvent, toLiveEvent } from './broadcaster.js';

function event(project: string, path = '/'): LiveEvent {
  return {
    at: '2026-03-05T12:00:00.000Z',
    project,
    type: 'page',
    event: '$pageview',
    host: 'shop.example',
    path,
    country: 'DE',
    device: 'desktop',
    browser: 'Chrome',
    person: 'visitor-1',
  };
}

describe('createBroadcaster', () => {
  it('hands each published event to every open subscription, in order', async () => {
    const live = createBroadcaster();
    const a = live.subscribe();
    const b = live.subscribe();
    live.publish([event('shop', '/1'), event('shop', '/2')]);
    live.publish([event('shop', '/3')]);
    expect((await a.next(1000))?.map((e) => e.path)).toEqual(['/1', '/2', '/3']);
    expect((await b.next(1000))?.map((e) => e.path)).toEqual(['/1', '/2', '/3']);
  });

  it('wakes a waiting reader as soon as something is published', async () => {
    const live = createBroadcaster();
    const sub = live.subscribe();
    const started = performance.now();
    const waiting = sub.next(10_000);
    setTimeout(() => live.publish([event('shop')]), 20);
    expect(await waiting).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('answers an empty list after the idle time without events', async () => {
    const live = createBroadcaster();
    expect(await live.subscribe().next(10)).toEqual([]);
  });

  it("passes only the subscription's project when it names one", async () => {
    const live = createBroadcaster();
    const shop = live.subscribe({ project: 'shop' });
    live.publish([event('blog'), event('shop', '/mine'), event('blog')]);
    live.publish([event('blog')]);
    expect((await shop.next(1000))?.map((e) => e.path)).toEqual(['/mine']);
  });

  it('drops a subscriber that falls behind past its bound, without holding up the others or the publisher', async () => {
    const live = createBroadcaster({ maxQueued: 3 });
    const slow = live.subscribe();
    const fast = live.subscribe();
    live.publish([event('shop', '/1'), event('shop', '/2')]);
    expect(await fast.next(1000)).toHaveLength(2);
    // slow never read: 2 waiting + 2 more passes its bound of 3.
    live.publish([event('shop', '/3'), event('shop', '/4')]);
    expect(slow.ended).toBe('overflow');
    expect(await slow.next(1000)).toBeNull();
    expect((await fast.next(1000))?.map((e) => e.path)).toEqual(['/3', '/4']);
    expect(live.size).toBe(1);
    // Later events go nowhere near it.
    live.publish([event('shop', '/5')]);
    expect(await slow.next(10)).toBeNull();
  });

  it('forgets a closed subscription, and ends one that is waiting', async () => {
    const live = createBroadcaster();
    const sub = live.subscribe();
    const waiting = sub.next(10_000);
    expect(live.size).toBe(1);
    sub.close();
    expect(await waiting).toBeNull();
    expect(sub.ended).toBe('unsubscribed');
    expect(live.size).toBe(0);
    sub.close();
    expect(sub.ended).toBe('unsubscribed');
  });

  it('ends every subscription on close, as the gateway shuts down', async () => {
    const live = createBroadcaster();
    const subs = [live.subscribe(), live.subscribe({ project: 'shop' })];
    live.close();
    expect(subs.map((s) => s.ended)).toEqual(['shutdown', 'shutdown']);
    expect(live.size).toBe(0);
  });
});

it('toLiveEvent keeps what the feed shows, names the person by user id, and leaves properties out', () => {
  const row = {
    project_id: 'shop',
    received_at: '2026-03-05 12:00:05.250',
    type: 'track',
    event: 'Signup',
    host: 'shop.example',
    path: '/join',
    country: 'FR',
    device_type: 'mobile',
    browser: 'Firefox',
    anonymous_id: 'visitor-1',
    user_id: 'user-1',
    properties: '{"email":"a@b.example"}',
  } as unknown as Parameters<typeof toLiveEvent>[0];
  expect(toLiveEvent(row)).toEqual({
    at: '2026-03-05T12:00:05.250Z',
    project: 'shop',
    type: 'track',
    event: 'Signup',
    host: 'shop.example',
    path: '/join',
    country: 'FR',
    device: 'mobile',
    browser: 'Firefox',
    person: 'user-1',
  });
  // Before logging in, the anonymous id is the person's id.
  expect(toLiveEvent({ ...row, user_id: '' }).person).toBe('visitor-1');
});
