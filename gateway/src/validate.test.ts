import { describe, expect, it } from 'vitest';
import { messageIdOf, validateEvent } from './validate.js';

const MAX = 32 * 1024;
const track = { type: 'track', event: 'Clicked', anonymousId: 'a1', messageId: 'm1' };

describe('validateEvent', () => {
  it('accepts a well-formed track event and keeps its fields', () => {
    const verdict = validateEvent({ ...track, properties: { x: 1 }, timestamp: '2025-01-01T00:00:00Z' }, MAX);
    expect(verdict).toEqual({
      ok: true,
      event: {
        type: 'track',
        event: 'Clicked',
        anonymousId: 'a1',
        messageId: 'm1',
        properties: { x: 1 },
        timestamp: '2025-01-01T00:00:00Z',
      },
    });
  });

  it.each([
    ['a string', 'hello', 'not_an_object'],
    ['an array', [track], 'not_an_object'],
    ['an unknown type', { ...track, type: 'click' }, 'invalid_type'],
    ['an empty messageId', { ...track, messageId: '' }, 'invalid_message_id'],
    ['no anonymousId nor userId', { type: 'page', name: 'Home' }, 'missing_id'],
    ['a track without event name', { ...track, event: '  ' }, 'missing_event'],
    ['a timestamp that is no date', { ...track, timestamp: 'yesterday' }, 'invalid_timestamp'],
    ['properties that are an array', { ...track, properties: [1, 2] }, 'invalid_properties'],
    ['traits that are a string', { ...track, traits: 'x' }, 'invalid_traits'],
    ['a context that is a number', { ...track, context: 3 }, 'invalid_context'],
    ['an event over the size limit', { ...track, properties: { blob: 'x'.repeat(MAX) } }, 'too_large'],
  ])('rejects %s', (_what, raw, reason) => {
    expect(validateEvent(raw, MAX)).toEqual({ ok: false, reason });
  });

  it('reports the first fault by a fixed precedence when an event has several', () => {
    const raw = { type: 'track', anonymousId: '', messageId: 7, timestamp: 'soon', properties: 1 };
    expect(validateEvent(raw, MAX)).toEqual({ ok: false, reason: 'invalid_message_id' });
    expect(validateEvent({ ...raw, messageId: 'm' }, MAX)).toEqual({ ok: false, reason: 'missing_id' });
    expect(validateEvent({ ...raw, messageId: 'm', userId: 'u' }, MAX)).toEqual({
      ok: false,
      reason: 'missing_event',
    });
    expect(validateEvent({ ...raw, messageId: 'm', userId: 'u', event: 'E' }, MAX)).toEqual({
      ok: false,
      reason: 'invalid_timestamp',
    });
  });

  it('takes a userId when the anonymousId is blank, and keeps what it has no column for in extra', () => {
    const verdict = validateEvent(
      {
        type: 'page',
        anonymousId: '  ',
        userId: 'u1',
        writeKey: 'k',
        mine: { any: 'thing' },
        _metadata: null,
      },
      MAX,
    );
    // The blank anonymousId is kept as sent; the write key (a credential) and a null (nothing) are not.
    expect(verdict).toEqual({
      ok: true,
      event: { type: 'page', userId: 'u1', extra: { anonymousId: '  ', mine: { any: 'thing' } } },
    });
  });

  it('keeps a call field of another call type, and an originalTimestamp beside a timestamp, in extra', () => {
    const verdict = validateEvent(
      {
        ...track,
        timestamp: '2025-01-01T00:00:00Z',
        name: 'n',
        category: 'c',
        groupId: 'g',
        originalTimestamp: '2025-01-01T00:00:01Z',
      },
      MAX,
    );
    expect(verdict.ok && verdict.event.extra).toEqual({
      name: 'n',
      category: 'c',
      groupId: 'g',
      originalTimestamp: '2025-01-01T00:00:01Z',
    });
  });

  it('takes originalTimestamp as the event time when there is no timestamp, as RudderStack sends it', () => {
    const { timestamp: _, ...untimed } = track as Record<string, unknown>;
    const verdict = validateEvent({ ...untimed, originalTimestamp: '2015-2-02T00:30:08.276Z' }, MAX);
    expect(verdict.ok && verdict.event.timestamp).toBe('2015-2-02T00:30:08.276Z');
    expect(verdict.ok && verdict.event.extra).toBeUndefined();
    expect(validateEvent({ ...untimed, originalTimestamp: 'soon' }, MAX)).toEqual({
      ok: false,
      reason: 'invalid_timestamp',
    });
  });

  it('refuses integrations that are not an object', () => {
    expect(validateEvent({ ...track, integrations: ['All'] }, MAX)).toEqual({
      ok: false,
      reason: 'invalid_integrations',
    });
  });

  it('stores numeric ids as text, as Segment server libraries send them', () => {
    const verdict = validateEvent({ type: 'identify', userId: 42 }, MAX);
    expect(verdict.ok && verdict.event.userId).toBe('42');
  });

  it('measures an event only when the body that carried it could exceed the limit', () => {
    const large = { ...track, properties: { blob: 'x'.repeat(MAX) } };
    const bodyBytes = Buffer.byteLength(JSON.stringify({ batch: [large] }));
    expect(validateEvent(large, MAX, bodyBytes)).toEqual({ ok: false, reason: 'too_large' });
    // A body within the limit cannot hold a larger event, so nothing is measured and the event passes.
    const small = { ...track, properties: { blob: 'x'.repeat(100) } };
    expect(validateEvent(small, MAX, 200).ok).toBe(true);
    expect(validateEvent(small, 150, 200)).toEqual({ ok: false, reason: 'too_large' });
  });
});

describe('messageIdOf', () => {
  it('reports the messageId of a rejected event only when it is a string', () => {
    expect(messageIdOf({ messageId: 'm1' })).toBe('m1');
    expect(messageIdOf({ messageId: 7 })).toBeNull();
    expect(messageIdOf('x')).toBeNull();
  });
});
