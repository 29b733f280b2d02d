// The funnel panel: steps from the view's pages and events, counted by person or visitor, conversion and drop-off
// per step (funnel.sql). It reads raw events (no rollup answers it), so it runs when asked, never on the refresh.

import { describe, query, revoked } from './api.js';
import { $, fieldValue, option } from './dom.js';
import { percent } from './format.js';
import { table } from './table.js';
import { currentPeriod, filterParams, view } from './view.js';

/** Suggestions for funnel steps: the pages and custom events of the current view. */
async function suggestSteps() {
  const period = currentPeriod();
  const range = { project: view.project, from: period.from, to: period.to, ...filterParams(), limit: '20' };
  const [pages, events] = await Promise.all([query('top_pages', range), query('custom_events', range)]);
  const values = [...new Set([...pages.map((r) => r.path), ...events.map((r) => r.event)])];
  $('steps-list').replaceChildren(...values.map(option));
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
  const by = fieldValue('funnel-by');
  status.textContent = 'Counting…';
  try {
    const period = currentPeriod();
    const rows = await query('funnel', {
      project: view.project,
      from: period.from,
      to: period.to,
      ...filterParams(),
      steps,
      window: fieldValue('funnel-window'),
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
    if (!revoked(e)) status.textContent = describe(e);
  }
}

export function wireFunnel() {
  $('funnel-form').addEventListener('submit', runFunnel);
  $('add-step').addEventListener('click', () => addStep());
  $('funnel-details').addEventListener('toggle', () => {
    if (/** @type {HTMLDetailsElement} */ ($('funnel-details')).open) suggestSteps().catch(() => {});
  });
  addStep('/');
  addStep();
}
