import { makeRow } from '@tidemark/store/fixture';
import { describe, expect, it } from 'vitest';
import { rowLine, toMessages } from './messages.js';

describe('toMessages', () => {
  it('writes one JSONEachRow message per visitor, its rows in arrival order', () => {
    const a1 = makeRow({ anonymous_id: 'a', event: 'first' });
    const b1 = makeRow({ anonymous_id: 'b', event: 'second' });
    const a2 = makeRow({ anonymous_id: 'a', event: 'third' });
    const messages = toMessages([a1, b1, a2]);
    expect(messages.map((m) => m.key)).toEqual([`${a1.project_id}:a`, `${b1.project_id}:b`]);
    expect(messages[0]?.value).toBe(`${JSON.stringify(a1)}\n${JSON.stringify(a2)}\n`);
    expect(messages[1]?.value).toBe(`${JSON.stringify(b1)}\n`);
  });

  it('makes a lone surrogate of a message well-formed, row by row, and leaves its other rows as they were', () => {
    const cut = makeRow({ anonymous_id: 'a', title: 'cut \ud83d' });
    const whole = makeRow({ anonymous_id: 'a', title: 'whole \ud83d\ude00' });
    const [message] = toMessages([cut, whole]);
    const lines = message?.value.split('\n') ?? [];
    expect(message?.value).toBe(`${rowLine(cut)}\n${rowLine(whole)}\n`);
    expect(message?.value).not.toContain('\\ud83d');
    expect(JSON.parse(lines[0] ?? '').title).toBe('cut \ufffd');
    expect(JSON.parse(lines[1] ?? '').title).toBe('whole \ud83d\ude00');
  });
});
