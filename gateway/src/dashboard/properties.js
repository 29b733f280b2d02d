// The event properties panel: pick one of the custom events, then one of the properties seen on it, and read its
// values with their counts (event_properties.sql). Each value is a filter: the visits that sent that event with that
// value (`event` and `property` of the session filter). The query reads raw events, so it runs only once an event
// is picked, and then with every refresh, under the view's range and filters like every other panel. The event
// and the property shown are part of the view, kept in the URL.

import { $, fieldValue } from './dom.js';
import { filterSetter } from './filters.js';
import { table } from './table.js';
import { keepView, view } from './view.js';

/** The event picked ('' = none, the query does not run) and the property shown ('' = the first one seen). */
const picked = view.properties;
/** The last answer, so that showing another property needs no query. */
let lastRows = [];
/** The events to pick from, as the last refresh listed them. */
let lastEvents = [];
/** An event was picked (here, or in the URL) and its first answer has not come yet. */
let pending = picked.event !== '';

/** The event whose properties a refresh fetches, or '' when none is picked. */
export const propertyEvent = () => picked.event;

/** `<option>` with a value and a text. */
const choice = (value, text = value) =>
  Object.assign(document.createElement('option'), { value, textContent: text });

/** A value as a button that keeps the visits which sent the picked event with this value ('' too). */
function valueButton(property, value) {
  const event = picked.event;
  return filterSetter(
    value === '' ? '(empty)' : value,
    `Show only visits that sent ${event} with ${property} ${value === '' ? 'empty' : `= ${value}`}`,
    { event, property: `${property}=${value}` },
  );
}

function drawTable() {
  const properties = [...new Set(lastRows.map((r) => r.property))];
  const property = properties.includes(picked.key) ? picked.key : (properties[0] ?? '');
  const select = /** @type {HTMLSelectElement} */ ($('property-key'));
  select.replaceChildren(...(properties.length ? properties.map((p) => choice(p)) : [choice('', '–')]));
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
 * stays listed when a filter leaves it out), and the property values of `answer.event` (`rows`, [] when none is
 * picked), left out when another event has been picked while they were counted.
 */
export function drawProperties(events, answer) {
  if (events) lastEvents = events.map((r) => r.event);
  const names = [...lastEvents];
  if (picked.event && !names.includes(picked.event)) names.push(picked.event);
  const select = /** @type {HTMLSelectElement} */ ($('property-event'));
  select.replaceChildren(choice('', 'an event…'), ...names.map((name) => choice(name)));
  select.value = picked.event;
  if (answer.event === picked.event) {
    lastRows = answer.rows;
    pending = false;
  }
  drawTable();
}

/** Picking an event fetches its properties (`onPick`); picking a property redraws from the last answer. */
export function wireProperties(onPick) {
  $('property-event').addEventListener('change', () => {
    keepView(() => {
      picked.event = fieldValue('property-event');
      picked.key = '';
    });
    lastRows = [];
    pending = picked.event !== '';
    drawTable();
    onPick();
  });
  $('property-key').addEventListener('change', () => {
    keepView(() => (picked.key = fieldValue('property-key')));
    drawTable();
  });
  drawTable();
}
