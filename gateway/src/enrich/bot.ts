import { isbotMatches } from 'isbot';
import { memoize } from './memo.js';

/**
 * Why an event looks automated, `''` when it does not. Events are flagged, never dropped (DESIGN §3), so
 * a query can include or exclude them.
 *
 * The reason is `ua:` plus one word of what isbot matched (`ua:google`, `ua:headless`, `ua:curl`). isbot's
 * matches can be long and carry versions (`curl/8.5.0`, or a whole `Mozilla/5.0 (compatible; …)` string),
 * so only the first word is kept: few distinct values, which is what a LowCardinality column needs.
 *
 * An empty User-Agent is not flagged: server-side senders (Segment's server libraries, backfills) often
 * have none, and calling them bots would hide real events.
 */
export function botReason(userAgent: string): string {
  return userAgent === '' ? '' : reasonOf(userAgent);
}

const reasonOf = memoize((userAgent: string): string => {
  const matches = isbotMatches(userAgent);
  if (matches.length === 0) return '';
  const word = matches.map(firstWord).find((w) => w !== '' && w !== 'mozilla');
  return `ua:${word ?? 'other'}`;
});

function firstWord(match: string): string {
  const head =
    match
      .trim()
      .toLowerCase()
      .split(/[\s/;:()+,]/, 1)[0] ?? '';
  return head.replace(/[^a-z0-9._-]/g, '').slice(0, 32);
}
