// The live feed: GET /v1/live read with fetch(), because EventSource cannot send an Authorization header and the
// token must not travel in a URL (access logs, history). Newest first, the last 50 events.

import { ApiError, authorization, revoked } from './api.js';
import { $ } from './dom.js';
import { openPerson } from './person.js';
import { clockOf, view } from './view.js';

const feedLength = 50;
/** Aborts the running feed when the project changes or the user signs out. */
let feedStop;

/**
 * Follows GET /v1/live for the view's project, reconnecting after the server's `retry` when it ends; `onEvents`
 * runs after each message that carried events.
 */
export function startFeed(onEvents) {
  feedStop?.abort();
  const stop = new AbortController();
  feedStop = stop;
  const state = $('feed-state');
  const follow = async () => {
    while (!stop.signal.aborted) {
      let retryMs = 3000;
      try {
        const response = await fetch(`/v1/live?${new URLSearchParams({ project: view.project })}`, {
          headers: authorization(),
          signal: stop.signal,
        });
        if (response.status === 401) {
          revoked(new ApiError(401, 'invalid_admin_token', ''));
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        state.textContent = '● connected';
        state.className = 'on';
        for await (const message of serverSentEvents(response.body)) {
          if (message.retry) retryMs = message.retry;
          if (message.event === 'events') {
            showEvents(JSON.parse(message.data).events);
            onEvents();
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

/** Stops following the feed and empties it (signing out, or another project). */
export function stopFeed() {
  feedStop?.abort();
  $('feed').replaceChildren();
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
