// Relative times for `--from` and `--to`, so everyday questions need no date arithmetic in the shell:
// `--from today --to tomorrow`, `--from week --to now`, `--from 7d`. Days begin at 00:00 UTC, as the ready
// queries' `from` and `to` are UTC.

const DAY = 86_400_000;

function startOfDay(ms: number): number {
  return Math.floor(ms / DAY) * DAY;
}

/** The gateway's time format: `YYYY-MM-DD hh:mm:ss.sss`, UTC. */
function format(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The words this module reads, for the help text. */
export const timeWords =
  'now, today, yesterday, tomorrow, week (this Monday), month (the 1st), Nd (N days before today)';

/**
 * `value` as a UTC time when it is one of the words above; anything else (a date, a time) is returned as is
 * for the gateway to read. `now` is the clock (TIDEMARK_NOW pins it, for scripts whose answers must not move).
 */
export function resolveTime(value: string, now: number): string {
  const today = startOfDay(now);
  switch (value.toLowerCase()) {
    case 'now':
      return format(now);
    case 'today':
      return format(today);
    case 'yesterday':
      return format(today - DAY);
    case 'tomorrow':
      return format(today + DAY);
    case 'week': {
      // getUTCDay: 0 is Sunday; ISO weeks begin on Monday.
      const weekday = (new Date(today).getUTCDay() + 6) % 7;
      return format(today - weekday * DAY);
    }
    case 'month': {
      const d = new Date(today);
      return format(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
    }
  }
  const days = /^(\d{1,4})d$/i.exec(value);
  if (days?.[1] !== undefined) return format(today - Number(days[1]) * DAY);
  return value;
}

/** The clock: TIDEMARK_NOW (any time `Date.parse` reads) when set, else the system's. */
export function clock(env: NodeJS.ProcessEnv): number {
  const pinned = env.TIDEMARK_NOW;
  if (pinned === undefined || pinned === '') return Date.now();
  const ms = Date.parse(pinned);
  if (Number.isNaN(ms)) throw new Error(`TIDEMARK_NOW is not a time: ${JSON.stringify(pinned)}`);
  return ms;
}
