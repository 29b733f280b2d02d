// The view's controls — project, range, custom days, time zone, comparison — and its filters as removable chips and
// as buttons in the tables. Each change goes through `changeView`, so the URL, the controls and the numbers follow.

import { $, fieldValue, option } from './dom.js';
import { knownZone } from './periods.js';
import { changeView, filterNames, sessionFilter, view } from './view.js';

/** A filter's value as its chip writes it: a property's empty value (`plan=`) as `plan=(empty)`. */
const shownValue = (name, value) =>
  name === 'property' && value.indexOf('=') === value.length - 1 ? `${value}(empty)` : value;

/** The controls and chips as the view says. */
export function showControls() {
  /** @type {HTMLInputElement} */ ($('project')).value = view.project;
  /** @type {HTMLSelectElement} */ ($('range')).value = view.range;
  /** @type {HTMLInputElement} */ ($('compare')).checked = view.compare;
  /** @type {HTMLInputElement} */ ($('zone')).value = view.zone;
  $('custom').hidden = view.range !== 'custom';
  /** @type {HTMLInputElement} */ ($('custom-from')).value = view.start;
  /** @type {HTMLInputElement} */ ($('custom-to')).value = view.stop;
  const chips = Object.entries(view.filters)
    .filter(([, value]) => value)
    .map(([name, filter]) => {
      const value = shownValue(name, filter);
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
  // Host, country and device read the rollups as fast as no filter; the session filters do not (architecture §6b).
  $('raw-note').hidden = sessionFilter() === '';
}

/** A button showing `text` that sets `filters` (name → value) when clicked. */
export function filterSetter(text, title, filters) {
  const button = Object.assign(document.createElement('button'), {
    type: 'button',
    className: 'filter',
    textContent: text,
    title,
  });
  button.addEventListener('click', () => changeView(() => Object.assign(view.filters, filters)));
  return button;
}

/** A value that filters the view when clicked; `''` (unknown) is shown as `unknown` and cannot be a filter. */
export function filterButton(name, value, unknown) {
  if (!value) return unknown;
  return filterSetter(value, `Show only ${filterNames[name]} ${value}`, { [name]: value });
}

/**
 * Wires the controls to the view; `onProject` runs after a change of project (the feed follows one project) and
 * `say` shows a message in the status line.
 */
export function wireControls({ onProject, say }) {
  $('controls').addEventListener('submit', (e) => e.preventDefault());
  $('range').addEventListener('change', () =>
    changeView(() => {
      view.range = fieldValue('range');
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
        view.start = fieldValue('custom-from');
        view.stop = fieldValue('custom-to');
      }),
    );
  }
  $('compare').addEventListener('change', () =>
    changeView(() => (view.compare = /** @type {HTMLInputElement} */ ($('compare')).checked)),
  );
  $('zone').addEventListener('change', () => {
    const zone = fieldValue('zone').trim();
    if (!knownZone(zone)) {
      say(`"${zone}" is not a time zone this browser knows (try Europe/Berlin, America/New_York or UTC).`);
      return;
    }
    changeView(() => (view.zone = zone));
  });
  $('zones').replaceChildren(...(Intl.supportedValuesOf?.('timeZone') ?? ['UTC']).map(option));
  $('project').addEventListener('change', () => {
    const next = fieldValue('project').trim();
    if (!next) return;
    changeView(() => (view.project = next));
    onProject(next);
  });
}
