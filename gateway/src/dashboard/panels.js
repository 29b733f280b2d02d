// What a refresh draws: the period line, the counters with their deltas, the chart, and the tables of the panels.
// Each tab of a panel is one ready query, and a refresh runs only the tab shown.

import { bucketsOf, drawChart } from './chart.js';
import { fillStatement } from './console.js';
import { $ } from './dom.js';
import { filterButton } from './filters.js';
import { decimal, duration, integer, percent, score } from './format.js';
import { drawProperties } from './properties.js';
import { table } from './table.js';
import { clockOf, filtered, view } from './view.js';

/** A page as its host and its path, each a button that filters by it (the path as `key`: page, entry or exit). */
function page(r, key) {
  const cell = document.createDocumentFragment();
  cell.append(filterButton('host', r.host, ''), filterButton(key, r.path, r.path));
  return cell;
}

/** A campaign as its source, medium and campaign, each a button that filters by it ('–' when untagged). */
function utm(r) {
  const cell = document.createDocumentFragment();
  const parts = [
    ['utm_source', r.utm_source],
    ['utm_medium', r.utm_medium],
    ['utm_campaign', r.utm_campaign],
  ];
  parts.forEach(([key, value], i) => {
    if (i > 0) cell.append(' / ');
    cell.append(filterButton(key, value, '–'));
  });
  return cell;
}

/**
 * The tabbed panels: each tab is one ready query. `cells` turns a row into the table's cells; a cell may be a node
 * (a filter button).
 */
const panels = {
  pages: {
    top_pages: {
      head: ['Page', 'Views', 'Visitors'],
      cells: (r) => [page(r, 'page'), r.pageviews, r.visitors],
    },
    entry_pages: {
      head: ['Entry page', 'Entries', 'Bounce rate'],
      cells: (r) => [page(r, 'entry_page'), r.entries, percent(r.bounce_rate)],
    },
    exit_pages: {
      head: ['Exit page', 'Exits', 'Exit rate'],
      cells: (r) => [page(r, 'exit_page'), r.exits, percent(r.exit_rate)],
    },
  },
  sources: {
    referrers: {
      head: ['Referrer', 'Sessions', 'Visitors'],
      cells: (r) => [filterButton('referrer', r.referrer_host, '(direct)'), r.sessions, r.visitors],
    },
    utm_campaigns: {
      head: ['Source / medium / campaign', 'Sessions', 'Visitors'],
      cells: (r) => [utm(r), r.sessions, r.visitors],
    },
  },
  devices: {
    devices: {
      head: ['Device', 'Visitors', 'Views'],
      cells: (r) => [filterButton('device_type', r.device_type, '(unknown)'), r.visitors, r.pageviews],
    },
    browsers: {
      head: ['Browser', 'Visitors', 'Views'],
      cells: (r) => [filterButton('browser', r.browser, '(unknown)'), r.visitors, r.pageviews],
    },
    operating_systems: {
      head: ['OS', 'Visitors', 'Views'],
      cells: (r) => [filterButton('os', r.os, '(unknown)'), r.visitors, r.pageviews],
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
      cells: (r) => [filterButton('event', r.event, r.event), r.events, r.visitors],
    },
  },
  vitals: {
    web_vitals: {
      head: ['Metric', 'Page', 'p75', 'Samples'],
      cells: (r) => [
        r.metric,
        page(r, 'page'),
        r.metric === 'CLS' ? score.format(r.p75) : `${integer.format(r.p75)} ms`,
        r.samples,
      ],
    },
  },
};

/** The tab shown in each panel: the ready queries a refresh runs for the tables. */
export const shownTab = Object.fromEntries(
  Object.entries(panels).map(([panel, tabs]) => [panel, Object.keys(tabs)[0]]),
);

/** Draws one refresh's answers together, so the page never mixes two moments. */
export function draw(d) {
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
  $('empty').textContent = filtered()
    ? 'No events match these filters in this range. Remove a filter or pick a longer range.'
    : 'No events in this range yet. Pick a longer range, or send some (see the README: the SDK snippet, or one curl).';

  drawChart($('chart'), $('chart-readout'), {
    keys: bucketsOf(d.period, view.zone),
    rows: d.overTime,
    interval: d.period.interval,
    previous: d.previous && { keys: bucketsOf(d.previous, view.zone), rows: d.overTimeBefore },
  });
  $('legend-previous').hidden = !d.previous;
  for (const [name, rows] of Object.entries(d.lists)) drawList(name, rows);
  drawProperties(d.lists.custom_events ?? [], d.properties);
  fillStatement(d.period);
}

/**
 * Shows a value; `data-value` keeps it exactly as the query answered, for whoever checks the page against SQL.
 * With a previous value, the change beside it, coloured by whether it is better or worse: relative, or for a rate
 * (the bounce rate, better when lower) in percentage points.
 */
function counter(id, value, format, before, rate = false) {
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
  if (rate) text = `${n >= was ? '+' : '−'}${decimal.format(Math.abs(n - was) * 100)} pp`;
  else if (was === 0) text = n === 0 ? '±0 %' : 'new';
  else text = `${n >= was ? '+' : '−'}${decimal.format((Math.abs(n - was) / was) * 100)} %`;
  delta.textContent = text;
  delta.title = `previous period: ${format(was)}`;
  const gain = rate ? was - n : n - was;
  delta.className = `delta ${gain > 0 ? 'better' : gain < 0 ? 'worse' : ''}`;
}

function drawList(name, rows) {
  const spec = Object.values(panels).find((tabs) => tabs[name])?.[name];
  table(name, spec.head, rows, spec.cells);
  if (name === 'web_vitals') {
    for (const [i, row] of rows.entries()) {
      $('web_vitals').tBodies[0]?.rows[i]?.cells[2]?.classList.add('vital', row.p75_rating);
    }
  }
}

/** Tabs: showing one calls `onShow` (which fetches it at once); the others are not fetched until shown. */
export function wireTabs(onShow) {
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
        onShow();
      });
    }
  }
}
