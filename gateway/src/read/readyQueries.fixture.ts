import type { ReadyQuery } from './readyQueries.js';

// Three ready queries in the shape the query library (queries/) loads, for the read API's tests: a list with a
// defaulted limit, an Array parameter, and a daily series.
const range = `project_id = {project:String}
      AND timestamp >= {from:DateTime64(3, 'UTC')}
      AND timestamp < {to:DateTime64(3, 'UTC')}`;

export const fixtureQueries: ReadyQuery[] = [
  {
    name: 'top_paths',
    description: 'Page views and visitors per path, most viewed first.',
    sql: `-- {project:String} in a comment is not a placeholder ClickHouse binds; the parameters are listed below.
SELECT path, count() AS pageviews, uniqExact(anonymous_id) AS visitors
FROM tidemark.events FINAL
WHERE type = 'page' AND ${range}
GROUP BY path
ORDER BY pageviews DESC, path
LIMIT {limit:UInt32}`,
    params: [
      { name: 'project', type: 'String' },
      { name: 'from', type: "DateTime64(3, 'UTC')" },
      { name: 'to', type: "DateTime64(3, 'UTC')" },
      { name: 'limit', type: 'UInt32', default: '10' },
    ],
  },
  {
    name: 'event_counts',
    description: 'How often each named track event was sent.',
    sql: `SELECT event, count() AS events
FROM tidemark.events FINAL
WHERE type = 'track' AND has({events:Array(String)}, event) AND ${range}
GROUP BY event
ORDER BY event`,
    params: [
      { name: 'project', type: 'String' },
      { name: 'from', type: "DateTime64(3, 'UTC')" },
      { name: 'to', type: "DateTime64(3, 'UTC')" },
      { name: 'events', type: 'Array(String)' },
    ],
  },
  {
    name: 'daily_visitors',
    description: 'Distinct visitors per UTC day.',
    sql: `SELECT toDate(timestamp) AS day, uniqExact(anonymous_id) AS visitors
FROM tidemark.events FINAL
WHERE ${range}
GROUP BY day
ORDER BY day`,
    params: [
      { name: 'project', type: 'String' },
      { name: 'from', type: "DateTime64(3, 'UTC')" },
      { name: 'to', type: "DateTime64(3, 'UTC')" },
    ],
  },
];
