// When the numbers are fetched: every ready query of the view at once, drawn together; again when events arrive
// in the feed (at most every 2 s), when the view changes (at once), and every 30 s otherwise.

import { query, revoked, signedIn } from './api.js';
import { $ } from './dom.js';
import { draw, shownTab } from './panels.js';
import { previousOf } from './periods.js';
import { drawProperties, propertyEvent } from './properties.js';
import { currentPeriod, filterParams, view } from './view.js';

let refreshTimer;
let lastRefresh = 0;
let refreshing;
/**
 * Something arrived (`'events'`) or the view changed (`'view'`) while a refresh was running: what it fetched is out
 * of date. A changed view is fetched again at once; new events at most every 2 s.
 */
let stale = false;

/** The status line under the controls. */
export function say(text) {
  $('status').textContent = text;
}

/** Runs every ready query the page shows, then draws them together. */
export async function refresh() {
  if (!signedIn() || !view.project) return;
  if (refreshing) {
    stale ||= 'events';
    return refreshing;
  }
  stale = false;
  lastRefresh = Date.now();
  clearTimeout(refreshTimer);
  let period;
  try {
    period = currentPeriod();
  } catch (e) {
    say(e.message);
    return;
  }
  const previous = view.compare ? previousOf(period) : undefined;
  const filters = filterParams();
  const range = { project: view.project, from: period.from, to: period.to, ...filters };
  const tabs = Object.values(shownTab);
  const listParams = (name) => ({ ...range, limit: '10', ...(name === 'web_vitals' ? { metric: '' } : {}) });
  const before = previous && { ...range, from: previous.from, to: previous.to };
  const zoned = { interval: period.interval, timezone: view.zone };
  // The event properties panel reads raw events: only once an event is picked there.
  const event = propertyEvent();
  refreshing = Promise.all([
    query('active_visitors', { project: view.project, minutes: '5', ...filters }),
    query('overview', range),
    query('visitors_over_time', { ...range, ...zoned }),
    before ? query('overview', before) : undefined,
    before ? query('visitors_over_time', { ...before, ...zoned }) : undefined,
    event ? query('event_properties', { ...range, event, limit: '10' }) : [],
    ...tabs.map((name) => query(name, listParams(name))),
  ])
    .then(([active, overview, overTime, overviewBefore, overTimeBefore, propertyRows, ...answers]) => {
      const lists = Object.fromEntries(tabs.map((name, i) => [name, answers[i]]));
      draw({
        period,
        previous,
        active,
        overview,
        overTime,
        overviewBefore,
        overTimeBefore,
        lists,
        properties: { event, rows: propertyRows },
      });
      say(view.problems.length ? `Ignored in the URL: ${view.problems.join('; ')}.` : '');
    })
    .catch((e) => {
      if (!revoked(e)) say(`Could not load the numbers: ${e.message}`);
    })
    .finally(() => {
      refreshing = undefined;
      clearTimeout(refreshTimer);
      // The active count ages by itself: look again every 30 s even when nothing arrives.
      if (stale === 'view') refreshTimer = setTimeout(refresh, 0);
      else if (stale) refreshSoon();
      else refreshTimer = setTimeout(refresh, 30_000);
    });
  return refreshing;
}

/**
 * The event properties panel alone, for an event just picked there: the rest of the page already shows this view.
 * The next refresh fetches it with everything else.
 */
export async function refreshProperties() {
  const event = propertyEvent();
  if (!event || !signedIn() || !view.project) return;
  try {
    const period = currentPeriod();
    const range = { project: view.project, from: period.from, to: period.to, ...filterParams() };
    drawProperties(undefined, {
      event,
      rows: await query('event_properties', { ...range, event, limit: '10' }),
    });
  } catch (e) {
    if (!revoked(e)) say(`Could not load the event's properties: ${e.message}`);
  }
}

/** After live events: refresh soon, but at most every 2 s however fast events come. */
export function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, Math.max(500, 2000 - (Date.now() - lastRefresh)));
}

/** A refresh for a changed view: one running now fetched the old view, so another follows it at once. */
export function refreshNow() {
  if (refreshing) stale = 'view';
  else refresh();
}

/** No more refreshes until the next `refresh()` (signing out). */
export function stopRefresh() {
  clearTimeout(refreshTimer);
}
