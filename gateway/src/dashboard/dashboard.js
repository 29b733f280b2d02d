// The live dashboard: plain JavaScript modules the gateway serves as they are (no build step), reading the read API
// with the admin token. Every number on the page is a ready query's answer (queries/*.sql) shown as returned; the
// live feed is GET /v1/live read with fetch(), because EventSource cannot send an Authorization header and the
// token must not travel in a URL (access logs, history). The view (project, range, time zone, comparison,
// filters) is kept in the page's URL, so it can be bookmarked and shared; the token never is.

import { bucketsOf, drawChart } from './chart.js';
import { knownZone, periodOf, presets, previousOf } from './periods.js';

const tokenKey = 'tidemark.dashboard.token';
const projectKey = 'tidemark.dashboard.project';
const feedLength = 50;
/** The filters every ready query of the refresh takes (see each queries/*.sql header), as chips name them. */
const filterNames = { host: 'Host', country: 'Country', device_type: 'Device' };

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const percent = (v) => `${decimal.format(Number(v) * 100)} %`;

/** A request the server refused, with its stable code (errors are data, not message text). */
class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let token = sessionStorage.getItem(tokenKey);
/** Aborts the running feed when the project changes or the user signs out. */
let feedStop;
let refreshTimer;
let lastRefresh = 0;
let refreshing;
/**
 * Something arrived (`'events'`) or the view changed (`'view'`) while a refresh was running: what it fetched is out
 * of date. A changed view is fetched again at once; new events at most every 2 s.
 */
let stale = false;
/** The statement the console was last filled with, to tell it from one the user edited. */
let generatedStatement = '';

/**
 * What the page shows, as its URL says: `?project=&range=&from=&to=&tz=&compare=1&host=&country=&device_type=`.
 * Anything the URL gets wrong is replaced by the default and said in the status line.
 */
const view = readView(new URLSearchParams(location.search));

function readView(params) {
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
    problems,
  };
}

/** Writes the view into the URL (replacing the history entry: a refresh is not a step back). */
function writeView() {
  const params = new URLSearchParams({ project: view.project, range: view.range });
  if (view.range === 'custom') {
    params.set('from', view.start);
    params.set('to', view.stop);
  }
  if (view.zone !== browserZone) params.set('tz', view.zone);
  if (view.compare) params.set('compare', '1');
  for (const [name, value] of Object.entries(view.filters)) if (value) params.set(name, value);
  history.replaceState(null, '', `${location.pathname}?${params}`);
}

async function api(path, init = {}) {
  const response = await fetch(path, {
    ...init,
    headers: { ...init.headers, authorization: `Bearer ${token}` },
    cache: 'no-store',
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, body.code ?? 'http_error', body.message ?? response.statusText);
  }
  return response.json();
}

/** A ready query's rows; an array parameter is sent as the name repeated, as the read API reads it. */
function query(name, params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, String(v));
  }
  return api(`/v1/queries/${name}?${search}`).then((answer) => answer.rows);
}

const sql = (statement) =>
  api('/v1/sql', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: statement });

// --- signing in -----------------------------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const error = $('login-error');
  error.textContent = '';
  token = /** @type {HTMLInputElement} */ ($('token')).value.trim();
  try {
    await api('/v1/queries');
  } catch (e) {
    token = null;
    error.textContent =
      e instanceof ApiError && e.code === 'invalid_admin_token'
        ? 'That is not the admin token of this gateway (TIDEMARK_ADMIN_TOKEN). Check it and try again.'
        : e instanceof ApiError && e.code === 'read_api_disabled'
          ? 'The read API is off on this gateway: start it with TIDEMARK_ADMIN_TOKEN set.'
          : `The gateway did not answer (${e.message}).`;
    return;
  }
  sessionStorage.setItem(tokenKey, token);
  await open();
}

function signOut(message = '') {
  sessionStorage.removeItem(tokenKey);
  token = null;
  feedStop?.abort();
  clearTimeout(refreshTimer);
  $('dashboard').hidden = true;
  $('controls').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  /** @type {HTMLInputElement} */ ($('token')).value = '';
}

/** A 401 mid-session means the token changed on the server: back to the form, saying why. */
function unlessSignedOut(e) {
  if (e instanceof ApiError && e.code === 'invalid_admin_token') {
    signOut('The gateway no longer accepts this token; sign in again.');
    return true;
  }
  return false;
}

async function open() {
  $('login').hidden = true;
  $('dashboard').hidden = false;
  $('controls').hidden = false;
  const projects = await knownProjects().catch(() => []);
  $('projects').replaceChildren(
    ...projects.map((p) => Object.assign(document.createElement('option'), { value: p })),
  );
  view.project ||= sessionStorage.getItem(projectKey) || projects[0] || 'demo';
  // No event in 30 days in any project: a fresh install. Say how to get some instead of showing zeros only.
  $('first-run').hidden = projects.length > 0;
  showControls();
  startFeed();
  await refresh();
}

/** The projects with events in the last 30 days, busiest first, for the project field's suggestions. */
async function knownProjects() {
  const answer = await sql(`SELECT project_id FROM events WHERE timestamp > now() - INTERVAL 30 DAY
           GROUP BY project_id ORDER BY count() DESC LIMIT 50`);
  return answer.rows.map((row) => String(row[0]));
}

/** The controls and chips as the view says. */
function showControls() {
  /** @type {HTMLInputElement} */ ($('project')).value = view.project;
  /** @type {HTMLSelectElement} */ ($('range')).value = view.range;
  /** @type {HTMLInputElement} */ ($('compare')).checked = view.compare;
  const zone = /** @type {HTMLInputElement} */ ($('zone'));
  zone.value = view.zone;
  $('custom').hidden = view.range !== 'custom';
  /** @type {HTMLInputElement} */ ($('custom-from')).value = view.start;
  /** @type {HTMLInputElement} */ ($('custom-to')).value = view.stop;
  const chips = Object.entries(view.filters)
    .filter(([, value]) => value)
    .map(([name, value]) => {
      const item = document.createElement('li');
      const remove = Object.assign(document.createElement('button'), {
        type: 'button',
        textContent: '×',
        title: 'Remove this filter',
      });
      remove.setAttribute('aria-label', `Remove the filter ${filterNames[name]} ${value}`);
      remove.addEventListener('click', () => changeView(() => (view.filters[name] = '')));
      item.append(
        `${filterNames[name]}: `,
        Object.assign(document.createElement('strong'), { textContent: value }),
      );
      item.append(' ', remove);
      item.dataset.filter = name;
      return item;
    });
  $('filters').replaceChildren(...chips);
  $('filters').hidden = chips.length === 0;
}

/** Applies a change to the view, then the URL, the controls and the numbers follow. */
function changeView(change) {
  change();
  writeView();
  showControls();
  refreshNow();
}

/** A refresh for a changed view: one running now fetched the old view, so another follows it at once. */
function refreshNow() {
  if (refreshing) stale = 'view';
  else refresh();
}

// --- the numbers ------------------------------------------------------------------------------------------------

/**
 * The tabbed panels: each tab is one ready query, and a refresh runs only the tab shown. `cells` turns a row into
 * the table's cells; a cell may be a node (a filter button).
 */
const panels = {
  pages: {
    top_pages: {
      head: ['Page', 'Views', 'Visitors'],
      cells: (r) => [page(r), r.pageviews, r.visitors],
    },
    entry_pages: {
      head: ['Entry page', 'Entries', 'Bounce rate'],
      cells: (r) => [page(r), r.entries, percent(r.bounce_rate)],
    },
    exit_pages: {
      head: ['Exit page', 'Exits', 'Exit rate'],
      cells: (r) => [page(r), r.exits, percent(r.exit_rate)],
    },
  },
  sources: {
    referrers: {
      head: ['Referrer', 'Sessions', 'Visitors'],
      cells: (r) => [r.referrer_host || '(direct)', r.sessions, r.visitors],
    },
    utm_campaigns: {
      head: ['Source / medium / campaign', 'Sessions', 'Visitors'],
      cells: (r) => [
        [r.utm_source, r.utm_medium, r.utm_campaign].map((v) => v || '–').join(' / '),
        r.sessions,
        r.visitors,
      ],
    },
  },
  devices: {
    devices: {
      head: ['Device', 'Visitors', 'Views'],
      cells: (r) => [filterButton('device_type', r.device_type, '(unknown)'), r.visitors, r.pageviews],
    },
    browsers: {
      head: ['Browser', 'Visitors', 'Views'],
      cells: (r) => [r.browser || '(unknown)', r.visitors, r.pageviews],
    },
    operating_systems: {
      head: ['OS', 'Visitors', 'Views'],
      cells: (r) => [r.os || '(unknown)', r.visitors, r.pageviews],
    },
  },
  countries: {
    countries: {
      head: ['Country', 'Visitors', 'Views'],
      cells: (r) => [filterButton('country', r.country, '(unknown)'), r.visitors, r.pageviews],
    },
  },
  events: {
    custom_events: {
      head: ['Event', 'Events', 'Visitors'],
      cells: (r) => [r.event, r.events, r.visitors],
    },
  },
  vitals: {
    web_vitals: {
      head: ['Metric', 'Page', 'p75', 'Samples'],
      cells: (r) => [
        r.metric,
        r.path,
        r.metric === 'CLS' ? decimal.format(r.p75) : `${integer.format(r.p75)} ms`,
        r.samples,
      ],
    },
  },
};
/** The tab shown in each panel. */
const shownTab = Object.fromEntries(
  Object.entries(panels).map(([panel, tabs]) => [panel, Object.keys(tabs)[0]]),
);

/** A page as `host` (a button that filters by it) and its path: the read queries filter by host, not by path. */
function page(r) {
  const cell = document.createDocumentFragment();
  cell.append(filterButton('host', r.host, ''), r.path);
  return cell;
}

/** A value that filters the view when clicked; `''` (unknown) is shown as `unknown` and cannot be a filter. */
function filterButton(name, value, unknown) {
  if (!value) return unknown;
  const button = Object.assign(document.createElement('button'), {
    type: 'button',
    className: 'filter',
    textContent: value,
    title: `Show only ${filterNames[name]} ${value}`,
  });
  button.addEventListener('click', () => changeView(() => (view.filters[name] = value)));
  return button;
}

/** The period the view names now, or a RangeError saying what is wrong with a custom range. */
function currentPeriod() {
  return periodOf(view.range, { now: Date.now(), zone: view.zone, start: view.start, stop: view.stop });
}

/** Runs every ready query the page shows, then draws them together, so the page never mixes two moments. */
async function refresh() {
  if (!token || !view.project) return;
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
    setStatus(e.message);
    return;
  }
  const previous = view.compare ? previousOf(period) : undefined;
  const filters = view.filters;
  const range = { project: view.project, from: period.from, to: period.to, ...filters };
  const tabs = Object.values(shownTab);
  const listParams = (name) => ({ ...range, limit: '10', ...(name === 'web_vitals' ? { metric: '' } : {}) });
  const before = previous && { ...range, from: previous.from, to: previous.to };
  const zoned = { interval: period.interval, timezone: view.zone };
  refreshing = Promise.all([
    query('active_visitors', { project: view.project, minutes: '5', ...filters }),
    query('overview', range),
    query('visitors_over_time', { ...range, ...zoned }),
    before ? query('overview', before) : undefined,
    before ? query('visitors_over_time', { ...before, ...zoned }) : undefined,
    ...tabs.map((name) => query(name, listParams(name))),
  ])
    .then(([active, overview, overTime, overviewBefore, overTimeBefore, ...lists]) => {
      draw({ period, previous, active, overview, overTime, overviewBefore, overTimeBefore });
      for (const [i, name] of tabs.entries()) drawList(name, lists[i]);
      setStatus(view.problems.length ? `Ignored in the URL: ${view.problems.join('; ')}.` : '');
    })
    .catch((e) => {
      if (!unlessSignedOut(e)) setStatus(`Could not load the numbers: ${e.message}`);
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

/** After live events: refresh soon, but at most every 2 s however fast events come. */
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, Math.max(500, 2000 - (Date.now() - lastRefresh)));
}

/** Times in the view's zone and a 24-hour clock, everywhere on the page: one clock, whatever the locale. */
function clockOf(options) {
  return new Intl.DateTimeFormat('en-GB', { timeZone: view.zone, hourCycle: 'h23', ...options });
}

function draw(d) {
  const period = $('period');
  period.dataset.from = d.period.from;
  period.dataset.to = d.period.to;
  period.dataset.end = new Date(d.period.end).toISOString();
  const when = clockOf({
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
  const updated = clockOf({ hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const start = Date.parse(`${d.period.from.replace(' ', 'T')}Z`);
  period.textContent = `${when.format(start)} to ${when.format(d.period.end)} (${view.zone}) · updated ${updated.format(Date.now())}`;

  const o = d.overview[0] ?? {};
  const b = d.overviewBefore?.[0];
  counter('active', d.active[0]?.visitors, integer.format);
  counter('visitors', o.visitors, integer.format, b?.visitors);
  counter('people', o.people, integer.format, b?.people);
  counter('pageviews', o.pageviews, integer.format, b?.pageviews);
  counter('sessions', o.sessions, integer.format, b?.sessions);
  counter('bounce_rate', o.bounce_rate, percent, b?.bounce_rate, true);
  counter('avg_duration', o.avg_duration_ms, duration, b?.avg_duration_ms);
  const nothing = Number(o.visitors ?? 0) === 0;
  $('empty').hidden = !nothing;
  // The first events arrived: the first-run hint has done its job.
  if (!nothing) $('first-run').hidden = true;
  $('empty').textContent = Object.values(view.filters).some(Boolean)
    ? 'No events match these filters in this range. Remove a filter or pick a longer range.'
    : 'No events in this range yet. Pick a longer range, or send some (see the README: the SDK snippet, or one curl).';

  drawChart($('chart'), $('chart-readout'), {
    keys: bucketsOf(d.period, view.zone),
    rows: d.overTime,
    interval: d.period.interval,
    previous: d.previous && { keys: bucketsOf(d.previous, view.zone), rows: d.overTimeBefore },
  });
  $('legend-previous').hidden = !d.previous;
  fillStatement(d.period);
}

/**
 * Shows a value; `data-value` keeps it exactly as the query answered, for whoever checks the page against SQL.
 * With a previous value, the change beside it: relative, or in percentage points for a rate.
 */
function counter(id, value, format, before, points = false) {
  const el = $(id);
  const n = Number(value ?? 0);
  el.dataset.value = String(value ?? 0);
  el.textContent = format(n);
  const delta = $(`${id}-delta`);
  if (!delta) return;
  delta.hidden = before === undefined;
  if (before === undefined) return;
  const was = Number(before);
  delta.dataset.value = String(before);
  let text;
  if (points) text = `${n >= was ? '+' : '−'}${decimal.format(Math.abs(n - was) * 100)} pp`;
  else if (was === 0) text = n === 0 ? '±0 %' : 'new';
  else text = `${n >= was ? '+' : '−'}${decimal.format((Math.abs(n - was) / was) * 100)} %`;
  delta.textContent = text;
  delta.title = `previous period: ${format(was)}`;
  delta.className = `delta ${n > was ? 'up' : n < was ? 'down' : ''}`;
}

function duration(ms) {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function drawList(name, rows) {
  const spec = Object.values(panels).find((tabs) => tabs[name])?.[name];
  table(name, spec.head, rows, spec.cells);
  if (name === 'web_vitals') {
    for (const [i, row] of rows.entries()) {
      $('web_vitals').tBodies[0]?.rows[i]?.cells[2]?.classList.add(row.p75_rating);
    }
  }
}

function table(id, headings, rows, cells) {
  const el = /** @type {HTMLTableElement} */ ($(id));
  const head = document.createElement('thead');
  head.append(tr(headings, 'th'));
  const body = document.createElement('tbody');
  if (rows.length === 0) {
    const filtered = Object.values(view.filters).some(Boolean);
    const empty = tr(
      [filtered ? 'Nothing for these filters in this range' : 'No data in this range yet'],
      'td',
    );
    empty.cells[0].colSpan = headings.length;
    empty.className = 'empty';
    body.append(empty);
  }
  body.append(
    ...rows.map((row) =>
      tr(
        cells(row).map((v) =>
          typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? integer.format(Number(v)) : v,
        ),
      ),
    ),
  );
  el.replaceChildren(head, body);
}

function tr(values, cell = 'td') {
  const row = document.createElement('tr');
  for (const value of values) {
    const c = document.createElement(cell);
    if (value instanceof Node) c.append(value);
    else c.textContent = String(value);
    row.append(c);
  }
  return row;
}

function setStatus(text) {
  $('status').textContent = text;
}

/** Tabs: showing one fetches it at once; the others are not fetched until shown. */
function wireTabs() {
  for (const list of document.querySelectorAll('[role="tablist"]')) {
    const panel = /** @type {HTMLElement} */ (list).dataset.panel;
    for (const tab of list.querySelectorAll('[role="tab"]')) {
      tab.addEventListener('click', () => {
        const name = /** @type {HTMLElement} */ (tab).dataset.tab;
        shownTab[panel] = name;
        for (const other of list.querySelectorAll('[role="tab"]')) {
          const on = other === tab;
          other.setAttribute('aria-selected', String(on));
          $(/** @type {HTMLElement} */ (other).dataset.tab).hidden = !on;
        }
        refreshNow();
      });
    }
  }
}

// --- on demand: funnel and retention ------------------------------------------------------------------------------
// Both read raw events (no rollup answers them), so they run when asked, never on the refresh.

/** Suggestions for funnel steps: the pages and custom events of the current view. */
async function suggestSteps() {
  const period = currentPeriod();
  const range = { project: view.project, from: period.from, to: period.to, ...view.filters, limit: '20' };
  const [pages, events] = await Promise.all([query('top_pages', range), query('custom_events', range)]);
  const values = [...new Set([...pages.map((r) => r.path), ...events.map((r) => r.event)])];
  $('steps-list').replaceChildren(
    ...values.map((v) => Object.assign(document.createElement('option'), { value: v })),
  );
}

function addStep(value = '') {
  const steps = $('steps');
  if (steps.children.length >= 8) return;
  const n = steps.children.length + 1;
  const input = Object.assign(document.createElement('input'), { value, name: 'step', autocomplete: 'off' });
  input.setAttribute('list', 'steps-list');
  input.setAttribute('aria-label', `Step ${n}: a page path (/pricing) or an event name`);
  const item = document.createElement('li');
  item.append(input);
  steps.append(item);
}

async function runFunnel(event) {
  event.preventDefault();
  const status = $('funnel-status');
  const steps = [...$('steps').querySelectorAll('input')].map((i) => i.value.trim()).filter(Boolean);
  if (steps.length === 0) {
    status.textContent = 'Give at least one step: a page path starting with / or an event name.';
    return;
  }
  const by = /** @type {HTMLSelectElement} */ ($('funnel-by')).value;
  status.textContent = 'Counting…';
  try {
    const period = currentPeriod();
    const rows = await query('funnel', {
      project: view.project,
      from: period.from,
      to: period.to,
      ...view.filters,
      steps,
      window: /** @type {HTMLSelectElement} */ ($('funnel-window')).value,
      count_by: by,
    });
    table(
      'funnel',
      ['Step', by === 'person' ? 'People' : 'Visitors', 'Conversion', 'Drop-off'],
      rows,
      (r) => [
        `${r.step}. ${r.name}`,
        r.visitors,
        percent(r.conversion),
        r.step === 1 ? '–' : percent(1 - Number(r.step_conversion)),
      ],
    );
    status.textContent = '';
  } catch (e) {
    if (!unlessSignedOut(e))
      status.textContent = e instanceof ApiError ? `${e.code}: ${e.message}` : e.message;
  }
}

async function runRetention(event) {
  event.preventDefault();
  const status = $('retention-status');
  status.textContent = 'Counting…';
  try {
    const period = currentPeriod();
    const by = /** @type {HTMLSelectElement} */ ($('retention-by')).value;
    const rows = await query('retention', {
      project: view.project,
      from: period.from,
      to: period.to,
      ...view.filters,
      interval: /** @type {HTMLSelectElement} */ ($('retention-interval')).value,
      timezone: view.zone,
      count_by: by,
    });
    // The grid: one row per cohort, its size, then the share of it active in each later period.
    const cohorts = new Map();
    let periods = 0;
    for (const r of rows) {
      const c = cohorts.get(r.cohort) ?? { cohort: r.cohort, size: r.cohort_size, shares: [] };
      c.shares[Number(r.period)] = r.share;
      periods = Math.max(periods, Number(r.period) + 1);
      cohorts.set(r.cohort, c);
    }
    const head = ['Cohort', by === 'person' ? 'People' : 'Visitors'];
    for (let p = 0; p < periods; p++) head.push(String(p));
    table('retention', head, [...cohorts.values()], (c) => [
      c.cohort.slice(0, 10),
      c.size,
      ...Array.from({ length: periods }, (_, p) => (c.shares[p] === undefined ? '' : percent(c.shares[p]))),
    ]);
    status.textContent = '';
  } catch (e) {
    if (!unlessSignedOut(e))
      status.textContent = e instanceof ApiError ? `${e.code}: ${e.message}` : e.message;
  }
}

// --- the person view ----------------------------------------------------------------------------------------------

/** One person's events across devices and log-ins (person_events.sql), the last 90 days, opened from the feed. */
async function openPerson(person) {
  const dialog = /** @type {HTMLDialogElement} */ ($('person'));
  $('person-id').textContent = person;
  const status = $('person-status');
  status.textContent = 'Loading…';
  $('person-events').replaceChildren();
  if (!dialog.open) dialog.showModal();
  const to = Math.floor(Date.now() / 3600_000) * 3600_000 + 3600_000;
  const utc = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  try {
    const rows = await query('person_events', {
      project: view.project,
      from: utc(to - 90 * 86_400_000),
      to: utc(to),
      person,
      limit: '500',
    });
    const when = clockOf({
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    table('person-events', ['Time', 'Event', 'Page', 'Device', 'Id'], rows, (r) => [
      when.format(Date.parse(`${String(r.timestamp).replace(' ', 'T')}Z`)),
      r.type === 'page' ? 'page view' : r.event || r.type,
      r.path,
      [r.device_type, r.browser, r.os, r.country].filter(Boolean).join(' · '),
      r.user_id || r.anonymous_id,
    ]);
    const devices = new Set(rows.map((r) => r.anonymous_id)).size;
    status.textContent =
      rows.length === 0
        ? 'No stored events for this person in the last 90 days yet (the feed can be a second ahead of the store).'
        : `${integer.format(rows.length)} events from ${devices} ${devices === 1 ? 'device' : 'devices'}, oldest first.`;
  } catch (e) {
    if (!unlessSignedOut(e))
      status.textContent = e instanceof ApiError ? `${e.code}: ${e.message}` : e.message;
  }
}

// --- the live feed ----------------------------------------------------------------------------------------------

/** Follows GET /v1/live for the current project, reconnecting after the server's `retry` when it ends. */
function startFeed() {
  feedStop?.abort();
  const stop = new AbortController();
  feedStop = stop;
  const state = $('feed-state');
  const follow = async () => {
    while (!stop.signal.aborted) {
      let retryMs = 3000;
      try {
        const response = await fetch(`/v1/live?${new URLSearchParams({ project: view.project })}`, {
          headers: { authorization: `Bearer ${token}` },
          signal: stop.signal,
        });
        if (response.status === 401) {
          unlessSignedOut(new ApiError(401, 'invalid_admin_token', ''));
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        state.textContent = '● connected';
        state.className = 'on';
        for await (const message of serverSentEvents(response.body)) {
          if (message.retry) retryMs = message.retry;
          if (message.event === 'events') {
            showEvents(JSON.parse(message.data).events);
            refreshSoon();
          }
        }
      } catch (e) {
        if (stop.signal.aborted) return;
        console.warn('live feed', e);
      }
      state.textContent = '○ reconnecting…';
      state.className = 'off';
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };
  follow();
}

/** Parses a text/event-stream body (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
async function* serverSentEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value;
    let cut = buffered.indexOf('\n\n');
    while (cut !== -1) {
      const message = { event: 'message', data: '', retry: 0 };
      for (const line of buffered.slice(0, cut).split('\n')) {
        const colon = line.indexOf(':');
        if (colon === 0) continue;
        const field = colon === -1 ? line : line.slice(0, colon);
        const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') message.event = text;
        else if (field === 'data') message.data += message.data ? `\n${text}` : text;
        else if (field === 'retry' && /^\d+$/.test(text)) message.retry = Number(text);
      }
      buffered = buffered.slice(cut + 2);
      cut = buffered.indexOf('\n\n');
      yield message;
    }
  }
}

function showEvents(events) {
  const feed = $('feed');
  const clock = clockOf({ hour: '2-digit', minute: '2-digit', second: '2-digit' });
  for (const e of events) {
    const item = document.createElement('li');
    item.className = e.type;
    const parts = [
      ['time', clock.format(new Date(e.at))],
      ['name', e.type === 'page' ? 'page view' : e.event || e.type],
      ['path', `${e.host}${e.path}`],
      ['where', [e.country, e.device, e.browser].filter(Boolean).join(' · ')],
    ];
    for (const [cls, text] of parts) {
      const span = document.createElement('span');
      span.className = cls;
      span.textContent = text;
      item.append(span);
    }
    if (e.person) {
      const who = Object.assign(document.createElement('button'), {
        type: 'button',
        className: 'who',
        textContent: 'person',
        title: `Open ${e.person}'s events`,
      });
      who.setAttribute('aria-label', `Open the events of person ${e.person}`);
      who.addEventListener('click', () => openPerson(e.person));
      item.append(who);
    }
    feed.prepend(item);
  }
  while (feed.children.length > feedLength) feed.lastElementChild?.remove();
}

// --- SQL console -----------------------------------------------------------------------------------------------

const quote = (s) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/**
 * A first statement to edit: the visitors and page views of the counters, from the raw events, for the same period
 * and filters, so it answers what the counters show (each event is stored once, DESIGN §6, so no FINAL). Replaced
 * as the view changes until the user edits it.
 */
function fillStatement(period) {
  const box = /** @type {HTMLTextAreaElement} */ ($('sql'));
  if (box.value !== generatedStatement) return;
  const where = [
    `project_id = ${quote(view.project)}`,
    `timestamp >= ${quote(period.from)} AND timestamp < ${quote(period.to)}`,
    "bot_reason = ''",
    ...Object.entries(view.filters)
      .filter(([, v]) => v)
      .map(([name, v]) => `${name} = ${quote(v)}`),
  ];
  generatedStatement = `SELECT uniqExact(anonymous_id) AS visitors, countIf(type = 'page') AS pageviews\nFROM events\nWHERE ${where.join('\n  AND ')}`;
  box.value = generatedStatement;
  fitStatement();
}

/** The box as tall as its statement, within reason. */
function fitStatement() {
  const box = /** @type {HTMLTextAreaElement} */ ($('sql'));
  box.rows = Math.min(20, Math.max(4, box.value.split('\n').length + 1));
}

/** Runs the console's statement through POST /v1/sql and shows the answer as returned, or the server's refusal. */
async function runStatement(event) {
  event.preventDefault();
  const status = $('console-status');
  const result = $('console-result');
  status.classList.remove('error');
  status.textContent = 'Running…';
  try {
    const answer = await sql(/** @type {HTMLTextAreaElement} */ ($('sql')).value);
    const head = document.createElement('thead');
    head.append(
      tr(
        answer.columns.map((c) => c.name),
        'th',
      ),
    );
    const body = document.createElement('tbody');
    // Values as ClickHouse answered them (64-bit integers arrive as strings, exact): a console shows data, not
    // formatted figures.
    body.append(
      ...answer.rows.map((row) =>
        tr(row.map((v) => (v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : v))),
      ),
    );
    result.replaceChildren(head, body);
    const rows = answer.rows.length;
    status.textContent = `${integer.format(rows)} ${rows === 1 ? 'row' : 'rows'} in ${decimal.format(answer.elapsedMs)} ms, ${integer.format(answer.rowsRead)} read`;
  } catch (e) {
    if (unlessSignedOut(e)) return;
    result.replaceChildren();
    status.classList.add('error');
    status.textContent =
      e instanceof ApiError ? `${e.code}: ${e.message}` : `The gateway did not answer (${e.message}).`;
  }
}

// --- wiring -----------------------------------------------------------------------------------------------------

const input = (id) => /** @type {HTMLInputElement} */ ($(id));

$('login').addEventListener('submit', signIn);
$('console').addEventListener('submit', runStatement);
$('sql').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey))
    /** @type {HTMLFormElement} */ ($('console')).requestSubmit();
});
$('sql').addEventListener('input', fitStatement);
$('logout').addEventListener('click', () => signOut());
$('controls').addEventListener('submit', (e) => e.preventDefault());
$('range').addEventListener('change', () =>
  changeView(() => {
    view.range = input('range').value;
    if (view.range === 'custom' && !view.start) {
      // A first custom range to adjust: the last 7 days, in the view's zone.
      const day = new Intl.DateTimeFormat('sv-SE', { timeZone: view.zone });
      view.start = day.format(Date.now() - 6 * 86_400_000);
      view.stop = day.format(Date.now());
    }
  }),
);
for (const id of ['custom-from', 'custom-to']) {
  $(id).addEventListener('change', () =>
    changeView(() => {
      view.start = input('custom-from').value;
      view.stop = input('custom-to').value;
    }),
  );
}
$('compare').addEventListener('change', () => changeView(() => (view.compare = input('compare').checked)));
$('zone').addEventListener('change', () => {
  const zone = input('zone').value.trim();
  if (!knownZone(zone)) {
    setStatus(
      `"${zone}" is not a time zone this browser knows (try Europe/Berlin, America/New_York or UTC).`,
    );
    return;
  }
  changeView(() => (view.zone = zone));
});
$('zones').replaceChildren(
  ...(Intl.supportedValuesOf?.('timeZone') ?? ['UTC']).map((z) =>
    Object.assign(document.createElement('option'), { value: z }),
  ),
);
$('project').addEventListener('change', () => {
  const next = input('project').value.trim();
  if (!next) return;
  sessionStorage.setItem(projectKey, next);
  $('feed').replaceChildren();
  changeView(() => (view.project = next));
  startFeed();
});
$('funnel-form').addEventListener('submit', runFunnel);
$('add-step').addEventListener('click', () => addStep());
$('funnel-details').addEventListener('toggle', () => {
  if (/** @type {HTMLDetailsElement} */ ($('funnel-details')).open) suggestSteps().catch(() => {});
});
$('retention-form').addEventListener('submit', runRetention);
$('person-close').addEventListener('click', () => /** @type {HTMLDialogElement} */ ($('person')).close());
addStep('/');
addStep();
wireTabs();

if (token) {
  open().catch((e) => unlessSignedOut(e));
} else {
  $('login').hidden = false;
}
