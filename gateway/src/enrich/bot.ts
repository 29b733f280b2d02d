import { isbotMatch } from 'isbot';

/**
 * Why an event looks automated, `''` when it does not. Events are flagged, never dropped (DESIGN §3), so
 * a query can include or exclude them. The reason is `ua:` plus the matched part of the User-Agent,
 * lowercased (`ua:googlebot`, `ua:headlesschrome`): few distinct values, so it suits a LowCardinality column.
 *
 * An empty User-Agent is not flagged: server-side senders (Segment's server libraries, backfills) often
 * have none, and calling them bots would hide real events.
 */
export function botReason(userAgent: string): string {
  if (userAgent === '') return '';
  const match = isbotMatch(userAgent);
  return match ? `ua:${match.toLowerCase().trim()}` : '';
}
