// The dashboard's ranges, in a time zone: today, yesterday, the last 24 hours, 7 or 30 days, this or last month, or
// from one day to another, each with the period before it for comparisons. Plain functions of the clock and the
// zone, so they read the same in every browser; the ready queries take `from` and `to` in UTC.

const hour = 3600_000;
const day = 24 * hour;

/** The presets, as the range control names them. */
export const presets = ['today', 'yesterday', '24h', '7d', '30d', 'month', 'last-month', 'custom'];

/** ClickHouse's DateTime64 text in UTC, as the ready queries read `from` and `to`. */
export const utc = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** `2026-03-05 14:07:09` read as UTC, to milliseconds. */
export const fromUtc = (text) => Date.parse(`${text.replace(' ', 'T')}Z`);

const partsFormat = new Map();
/** The wall clock in `zone` at `ms`: year, month (1-12), day, hour, minute, second. */
export function wallClock(ms, zone) {
  let format = partsFormat.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    partsFormat.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(ms).map((p) => [p.type, Number(p.value)]));
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute };
}

/**
 * The UTC instant at which `zone`'s wall clock shows midnight of the given day. The offset is read at a first
 * guess and read again where that lands, which settles it on the days a zone changes its offset.
 */
export function midnight(year, month, dayOfMonth, zone) {
  const wall = Date.UTC(year, month - 1, dayOfMonth);
  const offsetAt = (t) => {
    const c = wallClock(t, zone);
    return Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute) - Math.floor(t / 60_000) * 60_000;
  };
  let t = wall - offsetAt(wall);
  t = wall - offsetAt(t);
  return t;
}

/** Whether a zone name is one this browser knows. */
export function knownZone(zone) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** `YYYY-MM-DD` → [year, month, day], or undefined when it is not a date. */
export function parseDay(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text ?? '');
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
  return [y, mo, d];
}

/**
 * The period a range names at `now` in `zone`: `{ from, to, interval, end }`, `from` and `to` in UTC text as the
 * ready queries read them. A period that reaches the present ends at the start of the next UTC hour, so an event
 * stamped by a client clock slightly ahead still counts and whole hours are read from the rollups alone; `end`
 * is when it really ends for a reader (never after `now`). `custom` reads `start` and `stop`, days in the zone,
 * both included. Throws a RangeError saying what is wrong with a custom range.
 */
export function periodOf(range, { now, zone, start, stop }) {
  const nextHour = Math.floor(now / hour) * hour + hour;
  const today = wallClock(now, zone);
  const startOfToday = midnight(today.year, today.month, today.day, zone);
  let from;
  let to = nextHour;
  switch (range) {
    case 'today':
      from = startOfToday;
      break;
    case 'yesterday': {
      const y = wallClock(startOfToday - hour, zone);
      from = midnight(y.year, y.month, y.day, zone);
      to = startOfToday;
      break;
    }
    case '7d':
      from = nextHour - 7 * day;
      break;
    case '30d':
      from = nextHour - 30 * day;
      break;
    case 'month':
      from = midnight(today.year, today.month, 1, zone);
      break;
    case 'last-month': {
      to = midnight(today.year, today.month, 1, zone);
      const last = wallClock(to - hour, zone);
      from = midnight(last.year, last.month, 1, zone);
      break;
    }
    case 'custom': {
      const a = parseDay(start);
      const b = parseDay(stop);
      if (!a || !b) throw new RangeError('A custom range needs a first and a last day (YYYY-MM-DD).');
      from = midnight(a[0], a[1], a[2], zone);
      const after = new Date(Date.UTC(b[0], b[1] - 1, b[2] + 1));
      to = midnight(after.getUTCFullYear(), after.getUTCMonth() + 1, after.getUTCDate(), zone);
      if (to <= from) throw new RangeError('The last day of a custom range comes before its first day.');
      if (from >= now) throw new RangeError('A custom range must start before now.');
      to = Math.min(to, nextHour);
      break;
    }
    default:
      from = nextHour - day;
  }
  // Hours while the range is within two days; days beyond.
  const interval = to - from <= 2 * day ? 'hour' : 'day';
  return { from: utc(from), to: utc(to), interval, end: Math.min(to, now) };
}

/** The period just before: as long, ending where this one starts (what the deltas compare with). */
export function previousOf(period) {
  const from = fromUtc(period.from);
  const to = fromUtc(period.to);
  return { from: utc(from - (to - from)), to: period.from, interval: period.interval, end: from };
}
