// The live dashboard: plain JavaScript the gateway serves as is (no build step), reading the read API with the
// admin token. Every number on the page is a ready query's answer (queries/*.sql) shown as returned; the live feed
// is GET /v1/live read with fetch(), because EventSource cannot send an Authorization header and the token must
// not travel in a URL (access logs, history).

const tokenKey = 'tidemark.dashboard.token';
const projectKey = 'tidemark.dashboard.project';
const feedLength = 50;
const ranges = {
  '24h': { ms: 24 * 3600_000, interval: 'hour' },
  '7d': { ms: 7 * 86_400_000, interval: 'day' },
  '30d': { ms: 30 * 86_400_000, interval: 'day' },
};

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

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
/** Something arrived while a refresh was running: the numbers it fetched may predate it. */
let stale = false;

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

/** ClickHouse's DateTime64 text in UTC, as the ready queries read `from` and `to`. */
const utc = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

function currentPeriod() {
  const range = ranges[/** @type {HTMLSelectElement} */ ($('range')).value] ?? ranges['24h'];
  // `to` the start of the next UTC hour: an event stamped by a client clock slightly ahead of this one still counts,
  // and a range on the hour is read from the rollups alone (the raw events answer only a range's off-hour edges).
  const to = Math.floor(Date.now() / 3600_000) * 3600_000 + 3600_000;
  return { from: utc(to - range.ms), to: utc(to), interval: range.interval };
}

function query(name, params) {
  return api(`/v1/queries/${name}?${new URLSearchParams(params)}`).then((answer) => answer.rows);
}

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
  const input = /** @type {HTMLInputElement} */ ($('project'));
  input.value = sessionStorage.getItem(projectKey) ?? '';
  const projects = await knownProjects().catch(() => []);
  const list = $('projects');
  list.replaceChildren(...projects.map((p) => Object.assign(document.createElement('option'), { value: p })));
  if (!input.value) input.value = projects[0] ?? 'demo';
  const sql = /** @type {HTMLTextAreaElement} */ ($('sql'));
  if (!sql.value) sql.value = sampleStatement();
  startFeed();
  await refresh();
}

/** The projects with events in the last 30 days, busiest first, for the project field's suggestions. */
async function knownProjects() {
  const answer = await api('/v1/sql', {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: `SELECT project_id FROM events WHERE timestamp > now() - INTERVAL 30 DAY
           GROUP BY project_id ORDER BY count() DESC LIMIT 50`,
  });
  return answer.rows.map((row) => String(row[0]));
}

function project() {
  return /** @type {HTMLInputElement} */ ($('project')).value.trim();
}

// --- the numbers ------------------------------------------------------------------------------------------------

/** Runs every ready query the page shows, then draws them together, so the page never mixes two moments. */
async function refresh() {
  if (!token || !project()) return;
  if (refreshing) {
    stale = true;
    return refreshing;
  }
  stale = false;
  lastRefresh = Date.now();
  clearTimeout(refreshTimer);
  const period = currentPeriod();
  const filters = { host: '', country: '', device_type: '' };
  const range = { project: project(), from: period.from, to: period.to, ...filters };
  const list = { ...range, limit: '10' };
  refreshing = Promise.all([
    query('active_visitors', { project: project(), minutes: '5', ...filters }),
    query('overview', range),
    query('visitors_over_time', { ...range, interval: period.interval, timezone }),
    query('top_pages', list),
    query('referrers', list),
    query('devices', list),
    query('countries', list),
    query('web_vitals', { ...list, metric: '' }),
  ])
    .then(([active, overview, overTime, pages, referrers, devices, countries, vitals]) => {
      draw({ period, active, overview, overTime, pages, referrers, devices, countries, vitals });
      setStatus('');
    })
    .catch((e) => {
      if (!unlessSignedOut(e)) setStatus(`Could not load the numbers: ${e.message}`);
    })
    .finally(() => {
      refreshing = undefined;
      clearTimeout(refreshTimer);
      // The active count ages by itself: look again every 30 s even when nothing arrives.
      if (stale) refreshSoon();
      else refreshTimer = setTimeout(refresh, 30_000);
    });
  return refreshing;
}

/** After live events: refresh soon, but at most every 2 s however fast events come. */
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, Math.max(500, 2000 - (Date.now() - lastRefresh)));
}

function draw(d) {
  const period = $('period');
  period.dataset.from = d.period.from;
  period.dataset.to = d.period.to;
  period.textContent = `${d.period.from.slice(0, 16)} to ${d.period.to.slice(0, 16)} UTC · updated ${new Date().toLocaleTimeString()}`;

  const o = d.overview[0] ?? {};
  counter('active', d.active[0]?.visitors, integer);
  counter('visitors', o.visitors, integer);
  counter('pageviews', o.pageviews, integer);
  counter('sessions', o.sessions, integer);
  counter('bounce_rate', o.bounce_rate, { format: (v) => `${decimal.format(v * 100)} %` });
  counter('avg_duration', o.avg_duration_ms, { format: duration });

  chart(d.overTime, d.period);
  table('top_pages', ['Page', 'Views', 'Visitors'], d.pages, (r) => [
    r.host + r.path,
    r.pageviews,
    r.visitors,
  ]);
  table('referrers', ['Referrer', 'Sessions', 'Visitors'], d.referrers, (r) => [
    r.referrer_host || '(direct)',
    r.sessions,
    r.visitors,
  ]);
  table('devices', ['Device', 'Visitors', 'Views'], d.devices, (r) => [
    r.device_type || '(unknown)',
    r.visitors,
    r.pageviews,
  ]);
  table('countries', ['Country', 'Visitors', 'Views'], d.countries, (r) => [
    r.country || '(unknown)',
    r.visitors,
    r.pageviews,
  ]);
  table('web_vitals', ['Metric', 'Page', 'p75', 'Samples'], d.vitals, (r) => [
    r.metric,
    r.path,
    r.metric === 'CLS' ? decimal.format(r.p75) : `${integer.format(r.p75)} ms`,
    r.samples,
  ]);
  for (const [i, row] of d.vitals.entries()) {
    $('web_vitals').tBodies[0]?.rows[i]?.cells[2]?.classList.add(row.p75_rating);
  }
}

/** Shows a value; `data-value` keeps it exactly as the query answered, for whoever checks the page against SQL. */
function counter(id, value, formatter) {
  const el = $(id);
  const n = Number(value ?? 0);
  el.dataset.value = String(value ?? 0);
  el.textContent = formatter.format(n);
}

function duration(ms) {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

function table(id, headings, rows, cells) {
  const el = /** @type {HTMLTableElement} */ ($(id));
  const head = document.createElement('thead');
  head.append(tr(headings, 'th'));
  const body = document.createElement('tbody');
  if (rows.length === 0) {
    const empty = tr(['No data in this range yet'], 'td');
    empty.cells[0].colSpan = headings.length;
    empty.className = 'empty';
    body.append(empty);
  }
  body.append(
    ...rows.map((row) =>
      tr(cells(row).map((v) => (typeof v === 'number' || /^\d+$/.test(v) ? integer.format(Number(v)) : v))),
    ),
  );
  el.replaceChildren(head, body);
}

function tr(values, cell = 'td') {
  const row = document.createElement('tr');
  for (const value of values) {
    const c = document.createElement(cell);
    c.textContent = String(value);
    row.append(c);
  }
  return row;
}

const svgNs = 'http://www.w3.org/2000/svg';

/**
 * Every bucket of the period, as the query names them (`YYYY-MM-DD hh:00:00` local time in `timezone`): the answer
 * leaves out buckets without events, and a chart with gaps closed up would misstate when things happened. Walking
 * the period hour by hour and truncating in the time zone gets days of 23 and 25 hours right.
 */
function bucketsOf(period) {
  const local = new Intl.DateTimeFormat('sv-SE', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    hourCycle: 'h23',
  });
  const keyOf = (t) => {
    const text = local.format(t); // "2026-03-05 14"
    return period.interval === 'hour' ? `${text}:00:00` : `${text.slice(0, 10)} 00:00:00`;
  };
  const keys = [];
  const end = Date.parse(`${period.to.replace(' ', 'T')}Z`);
  // The last millisecond too: the period rarely ends on a whole hour, and its last bucket is the current one.
  for (let t = Date.parse(`${period.from.replace(' ', 'T')}Z`); ; t = Math.min(t + 3600_000, end - 1)) {
    const key = keyOf(t);
    if (keys.at(-1) !== key) keys.push(key);
    if (t >= end - 1) break;
  }
  return keys;
}

/** Bars per bucket: page views behind, visitors in front, the busiest bucket's numbers as the scale. */
function chart(rows, period) {
  const byBucket = new Map(rows.map((r) => [String(r.bucket), r]));
  const buckets = bucketsOf(period).map(
    (bucket) => byBucket.get(bucket) ?? { bucket, visitors: 0, pageviews: 0 },
  );
  const width = 800;
  const height = 160;
  const top = 16;
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'Visitors and page views over time');
  const max = Math.max(
    1,
    ...buckets.map((r) => Number(r.pageviews)),
    ...buckets.map((r) => Number(r.visitors)),
  );
  const step = width / Math.max(buckets.length, 1);
  buckets.forEach((r, i) => {
    for (const [key, inset] of [
      ['pageviews', 0.1],
      ['visitors', 0.3],
    ]) {
      const h = (Number(r[key]) / max) * (height - top);
      const bar = document.createElementNS(svgNs, 'rect');
      bar.setAttribute('x', String(i * step + step * inset));
      bar.setAttribute('width', String(Math.max(1, step * (1 - 2 * inset))));
      bar.setAttribute('y', String(height - h));
      bar.setAttribute('height', String(h));
      bar.setAttribute('class', key === 'pageviews' ? 'views' : 'visitors');
      const title = document.createElementNS(svgNs, 'title');
      title.textContent = `${r.bucket}: ${r.visitors} visitors, ${r.pageviews} page views`;
      bar.append(title);
      svg.append(bar);
    }
  });
  const scale = document.createElementNS(svgNs, 'text');
  scale.setAttribute('x', '2');
  scale.setAttribute('y', '11');
  scale.setAttribute('class', 'scale');
  scale.textContent = integer.format(max);
  svg.append(scale);
  const axis = document.createElement('p');
  axis.className = 'axis';
  axis.append(
    Object.assign(document.createElement('span'), { textContent: buckets[0]?.bucket.slice(0, 16) ?? '' }),
    Object.assign(document.createElement('span'), { textContent: `${timezone}` }),
    Object.assign(document.createElement('span'), { textContent: buckets.at(-1)?.bucket.slice(0, 16) ?? '' }),
  );
  $('chart').replaceChildren(svg, axis);
}

function setStatus(text) {
  $('status').textContent = text;
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
        const response = await fetch(`/v1/live?${new URLSearchParams({ project: project() })}`, {
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

const clock = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

function showEvents(events) {
  const feed = $('feed');
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
    feed.prepend(item);
  }
  while (feed.children.length > feedLength) feed.lastElementChild?.remove();
}

// --- SQL console -----------------------------------------------------------------------------------------------

/** A first statement to edit: this project's events by name. */
function sampleStatement() {
  const quoted = project().replaceAll('\\', '\\\\').replaceAll("'", "\\'");
  return `SELECT event, count() AS events\nFROM events\nWHERE project_id = '${quoted}'\nGROUP BY event\nORDER BY events DESC\nLIMIT 20`;
}

/** Runs the console's statement through POST /v1/sql and shows the answer as returned, or the server's refusal. */
async function runStatement(event) {
  event.preventDefault();
  const status = $('console-status');
  const result = $('console-result');
  status.classList.remove('error');
  status.textContent = 'Running…';
  try {
    const answer = await api('/v1/sql', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: /** @type {HTMLTextAreaElement} */ ($('sql')).value,
    });
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

$('login').addEventListener('submit', signIn);
$('console').addEventListener('submit', runStatement);
$('sql').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey))
    /** @type {HTMLFormElement} */ ($('console')).requestSubmit();
});
$('logout').addEventListener('click', () => signOut());
$('controls').addEventListener('submit', (e) => e.preventDefault());
$('range').addEventListener('change', () => refresh());
$('project').addEventListener('change', () => {
  sessionStorage.setItem(projectKey, project());
  $('feed').replaceChildren();
  startFeed();
  refresh();
});

if (token) {
  open().catch((e) => unlessSignedOut(e));
} else {
  $('login').hidden = false;
}
