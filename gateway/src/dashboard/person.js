// One person's events across devices and log-ins (person_events.sql), the last 90 days, opened from the feed.

import { describe, query, revoked } from './api.js';
import { $ } from './dom.js';
import { integer } from './format.js';
import { utc } from './periods.js';
import { table } from './table.js';
import { clockOf, view } from './view.js';

export async function openPerson(person) {
  const dialog = /** @type {HTMLDialogElement} */ ($('person'));
  $('person-id').textContent = person;
  const status = $('person-status');
  status.textContent = 'Loading…';
  $('person-events').replaceChildren();
  if (!dialog.open) dialog.showModal();
  const to = Math.floor(Date.now() / 3600_000) * 3600_000 + 3600_000;
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
    if (!revoked(e)) status.textContent = describe(e);
  }
}

export function wirePerson() {
  $('person-close').addEventListener('click', () => /** @type {HTMLDialogElement} */ ($('person')).close());
}
