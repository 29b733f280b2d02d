// The retention panel: cohorts by day, week or month and the share of each active in every later period
// (retention.sql). It reads raw events (no rollup answers it), so it runs when asked, never on the refresh.

import { describe, query, revoked } from './api.js';
import { $, fieldValue } from './dom.js';
import { percent } from './format.js';
import { table } from './table.js';
import { currentPeriod, filterParams, view } from './view.js';

async function runRetention(event) {
  event.preventDefault();
  const status = $('retention-status');
  status.textContent = 'Counting…';
  try {
    const period = currentPeriod();
    const by = fieldValue('retention-by');
    const interval = fieldValue('retention-interval');
    const rows = await query('retention', {
      project: view.project,
      from: period.from,
      to: period.to,
      ...filterParams(),
      interval,
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
    // Period 0 is the cohort's own: "Week 0", "Week 1", … after it.
    const unit = `${interval.charAt(0).toUpperCase()}${interval.slice(1)}`;
    const head = ['Cohort', by === 'person' ? 'People' : 'Visitors'];
    for (let p = 0; p < periods; p++) head.push(`${unit} ${p}`);
    table('retention', head, [...cohorts.values()], (c) => [
      c.cohort.slice(0, 10),
      c.size,
      ...Array.from({ length: periods }, (_, p) => (c.shares[p] === undefined ? '' : percent(c.shares[p]))),
    ]);
    status.textContent = '';
  } catch (e) {
    if (!revoked(e)) status.textContent = describe(e);
  }
}

export function wireRetention() {
  $('retention-form').addEventListener('submit', runRetention);
}
