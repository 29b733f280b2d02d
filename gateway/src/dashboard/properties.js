// The event properties panel: pick one of the custom events, then one of the properties seen on it, and read its
// values with their counts (event_properties.sql). Each value is a filter: the visits that sent that event with that
// value (`event` and `property` of the session filter). The query reads raw events, so it runs only once an event
// is picked, and then with every refresh, under the view's range and filters like every other panel.

import { $, fieldValue } from './dom.js';
import { table } from './table.js';
import { changeView, view } from './view.js';

/** The event picked ('' = none, the query does not run) and the property shown ('' = the first one seen). */
const picked = { event: '', property: '' };
/** The last answer, so that showing another property needs no query. */
let lastRows = [];
/** The events to pick from, as the last refresh listed them. */
let lastEvents = [];
/** An event was picked and its first answer has not come yet. */
let pending = false;

/** The event whose properties a refresh fetches, or '' when none is picked. */
export const propertyEvent = () => picked.event;

/** `<option>` with a value and a text. */
const choice = (value, text = value) =>
  Object.assign(document.createElement('option'), { value, textContent: text });

/** A value as a button that keeps the visits which sent the picked event with this value; '' has no button. */
function valueButton(property, value) {
  if (value === '') return '(empty)';
  const button = Object.assign(document.createElement('button'), {
    type: 'button',
    className: 'filter',
    textContent: value,
    title: `Show only visits that sent ${picked.event} with ${property} = ${value}`,
  });
  const event = picked.event;
  button.addEventListener('click', () =>
    changeView(() => {
      view.filters.event = event;
      view.filters.property = `${property}=${value}`;
    }),
  );
  return button;
}

function drawTable() {
  const properties = [...new Set(lastRows.map((r) => r.property))];
  const property = properties.includes(picked.property) ? picked.property : (properties[0] ?? '');
  const select = /** @type {HTMLSelectElement} */ ($('property-key'));
  select.replaceChildren(...properties.map((p) => choice(p)));
  select.value = property;
  select.disabled = properties.length === 0;
  const empty = !picked.event
    ? 'Pick an event to see its properties’ values'
    : pending
      ? 'Counting…'
      : `${picked.event} carried no property in this range`;
  table(
    'event_properties',
    ['Value', 'Events', 'Visitors'],
    lastRows.filter((r) => r.property === property),
    (r) => [valueButton(property, r.value), r.events, r.visitors],
    empty,
  );
}

/**
 * Draws the panel: the events of the custom events table to pick from (undefined: the last refresh's; the picked one
 * stays listed when a filter leaves it out), and the picked event's property values (`rows`, [] when none is picked).
 */
export function drawProperties(events, rows) {
  if (events) lastEvents = events.map((r) => r.event);
  const names = [...lastEvents];
  if (picked.event && !names.includes(picked.event)) names.push(picked.event);
  const select = /** @type {HTMLSelectElement} */ ($('property-event'));
  select.replaceChildren(choice('', 'an event…'), ...names.map((name) => choice(name)));
  select.value = picked.event;
  lastRows = picked.event ? rows : [];
  pending = false;
  drawTable();
}

/** Picking an event fetches its properties (`onPick`); picking a property redraws from the last answer. */
export function wireProperties(onPick) {
  $('property-event').addEventListener('change', () => {
    picked.event = fieldValue('property-event');
    picked.property = '';
    lastRows = [];
    pending = picked.event !== '';
    drawTable();
    onPick();
  });
  $('property-key').addEventListener('change', () => {
    picked.property = fieldValue('property-key');
    drawTable();
  });
  drawTable();
}
