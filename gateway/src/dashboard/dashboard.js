// The live dashboard's entry module: plain JavaScript modules the gateway serves as they are (no build step),
// reading the read API with the admin token. Every number on the page is a ready query's answer (queries/*.sql)
// shown as returned. This file only wires the parts together:
//   api.js      the token, ready queries, SQL          signin.js   the sign-in form
//   view.js     the view and its URL                    filters.js  controls, chips, filter buttons
//   refresh.js  when the numbers are fetched            panels.js   counters, chart, tables
//   feed.js     the live feed                           person.js   one person's events
//   funnel.js, retention.js   on-demand panels          console.js  the SQL console
//   properties.js  an event's property values
//   csv.js      a CSV download under every table

import { revoked, signedIn, sql, whenRevoked } from './api.js';
import { wireConsole } from './console.js';
import { wireCsv } from './csv.js';
import { $, option } from './dom.js';
import { startFeed, stopFeed } from './feed.js';
import { showControls, wireControls } from './filters.js';
import { wireFunnel } from './funnel.js';
import { wireTabs } from './panels.js';
import { wirePerson } from './person.js';
import { wireProperties } from './properties.js';
import { refresh, refreshNow, refreshProperties, refreshSoon, say, stopRefresh } from './refresh.js';
import { wireRetention } from './retention.js';
import { showDashboard, showSignIn, signIn } from './signin.js';
import { onViewChange, view } from './view.js';

const projectKey = 'tidemark.dashboard.project';

function signOut(message = '') {
  stopFeed();
  stopRefresh();
  showSignIn(message);
}

/** The projects with events in the last 30 days, busiest first, for the project field's suggestions. */
async function knownProjects() {
  const answer = await sql(`SELECT project_id FROM events WHERE timestamp > now() - INTERVAL 30 DAY
           GROUP BY project_id ORDER BY count() DESC LIMIT 50`);
  return answer.rows.map((row) => String(row[0]));
}

async function open() {
  showDashboard();
  const projects = await knownProjects().catch(() => []);
  $('projects').replaceChildren(...projects.map(option));
  view.project ||= sessionStorage.getItem(projectKey) || projects[0] || 'demo';
  // No event in 30 days in any project: a fresh install. Say how to get some instead of showing zeros only.
  $('first-run').hidden = projects.length > 0;
  showControls();
  startFeed(refreshSoon);
  await refresh();
}

whenRevoked(() => signOut('The gateway no longer accepts this token; sign in again.'));
onViewChange(showControls);
onViewChange(refreshNow);
$('login').addEventListener('submit', (e) => signIn(e, open));
$('logout').addEventListener('click', () => signOut());
wireControls({
  say,
  onProject(project) {
    sessionStorage.setItem(projectKey, project);
    stopFeed();
    startFeed(refreshSoon);
  },
});
wireTabs(refreshNow);
wireProperties(refreshProperties);
wireFunnel();
wireRetention();
wireConsole();
wirePerson();
wireCsv();

if (signedIn()) {
  open().catch(revoked);
} else {
  $('login').hidden = false;
}
