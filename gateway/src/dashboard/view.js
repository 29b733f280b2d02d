// What the page shows — project, range, time zone, comparison, filters, the event whose properties are listed — kept
// in the page's URL (`?project=&range=&from=&to=&tz=&compare=1&host=&country=&device_type=&page=&referrer=…
// &properties_of=&properties_key=`) so a view can be bookmarked and shared. Each change replaces the history entry
// (a view is not a step back), so back and forward leave and return to the page, which reads the view from its URL.
// The token never goes there: access logs and history would keep it.

import { knownZone, periodOf, presets } from './periods.js';

/**
 * The filters, as chips name them. Host, country and device are parameters of their own of every ready query (the
 * rollups are keyed by them); the others keep the sessions that match and travel together in the queries'
 * `filter` parameter (store/sql/views/01_filtered_sessions.sql), which reads a row per kept session: slower.
 */
export const filterNames = {
  host: 'Host',
  country: 'Country',
  device_type: 'Device',
  page: 'Page',
  entry_page: 'Entry page',
  exit_page: 'Exit page',
  referrer: 'Referrer',
  utm_source: 'UTM source',
  utm_medium: 'UTM medium',
  utm_campaign: 'UTM campaign',
  browser: 'Browser',
  os: 'OS',
  event: 'Event',
  property: 'Property',
};
/** The filters that are ready-query parameters of their own; the others go into `filter`. */
export const ownParameters = ['host', 'country', 'device_type'];

export const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** Reads a view from URL parameters; anything wrong is replaced by the default and listed in `problems`. */
export function readView(params) {
  const problems = [];
  const range = params.get('range') ?? '24h';
  const zone = params.get('tz') ?? browserZone;
  if (!presets.includes(range)) problems.push(`range "${range}" is not one of ${presets.join(', ')}`);
  if (!knownZone(zone)) problems.push(`time zone "${zone}" is not one this browser knows`);
  const filters = {};
  for (const name of Object.keys(filterNames)) filters[name] = params.get(name) ?? '';
  return {
    project: params.get('project') ?? '',
    range: presets.includes(range) ? range : '24h',
    start: params.get('from') ?? '',
    stop: params.get('to') ?? '',
    zone: knownZone(zone) ? zone : browserZone,
    compare: params.get('compare') === '1',
    filters,
    /** The event properties panel: the event picked ('' = none) and the property shown ('' = the first). */
    properties: { event: params.get('properties_of') ?? '', key: params.get('properties_key') ?? '' },
    problems,
  };
}

/** The view of this page, as its URL said when it loaded; changed only through `changeView`. */
export const view = readView(new URLSearchParams(location.search));

/**
 * Writes the view into the URL as a new entry of the tab's history, so Back undoes a filter click or a range
 * change; the same URL again (a control set to what it already shows) adds none. Refreshes never write it.
 */
function writeView() {
  const params = new URLSearchParams({ project: view.project, range: view.range });
  if (view.range === 'custom') {
    params.set('from', view.start);
    params.set('to', view.stop);
  }
  if (view.zone !== browserZone) params.set('tz', view.zone);
  if (view.compare) params.set('compare', '1');
  for (const [name, value] of Object.entries(view.filters)) if (value) params.set(name, value);
  if (view.properties.event) params.set('properties_of', view.properties.event);
  if (view.properties.key) params.set('properties_key', view.properties.key);
  const url = `${location.pathname}?${params}`;
  if (url !== `${location.pathname}${location.search}`) history.pushState(null, '', url);
}

const listeners = [];

/** Calls `listener` after every change of the view (the controls redraw, the numbers refresh). */
export function onViewChange(listener) {
  listeners.push(listener);
}

// Back and Forward: the entry's URL is the view again. Another project starts over (its feed, its suggestions).
addEventListener('popstate', () => {
  const next = readView(new URLSearchParams(location.search));
  if (next.project !== view.project) {
    location.reload();
    return;
  }
  const { filters, properties, ...rest } = next;
  Object.assign(view, rest);
  Object.assign(view.filters, filters);
  Object.assign(view.properties, properties);
  for (const listener of listeners) listener();
});

/** Applies a change that one panel follows by itself (it fetches its own answer): the URL only. */
export function keepView(change) {
  change();
  writeView();
}

/** Applies a change to the view, writes the URL, then tells whoever follows it. */
export function changeView(change) {
  keepView(change);
  for (const listener of listeners) listener();
}

/** Whether any filter is set. */
export const filtered = () => Object.values(view.filters).some(Boolean);

/** The session filters set, as the queries' `filter` parameter (a URL query string); '' when none is. */
export function sessionFilter() {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(view.filters))
    if (value && !ownParameters.includes(name)) params.set(name, value);
  return params.toString();
}

/** The filters as ready-query parameters: host, country, device_type and filter. */
export function filterParams() {
  const params = { filter: sessionFilter() };
  for (const name of ownParameters) params[name] = view.filters[name];
  return params;
}

/** The period the view names now, or a RangeError saying what is wrong with a custom range. */
export function currentPeriod() {
  return periodOf(view.range, { now: Date.now(), zone: view.zone, start: view.start, stop: view.stop });
}

/** Times in the view's zone and a 24-hour clock, everywhere on the page: one clock, whatever the locale. */
export function clockOf(options) {
  return new Intl.DateTimeFormat('en-GB', { timeZone: view.zone, hourCycle: 'h23', ...options });
}
