-- tidemark.filtered_sessions(…): the sessions a `filter` keeps, by their events inside the range and the host,
-- country and device type filters, as `session`, the 128-bit hash the session rollups keep
-- (reinterpretAsUInt128(sipHash128(session_id))). Every view below and the ready queries keep only these
-- sessions' rows when `filter` is set: from tidemark.session_values (041) and tidemark.session_hours (012), which
-- hold the session, for the range's whole UTC hours, and from tidemark.events for the minutes at its edges
-- (docs/architecture.md §6b). On raw events: `session_id`'s hash `GLOBAL IN (SELECT session FROM …)`.
--
-- `filter` is a URL query string, each key once, values URL-encoded ('' = no filter):
--   page=/pricing            the session viewed this path
--   entry_page, exit_page    its first (last) page view in the range is this path
--   referrer                 its first page view came from this referrer host ('' = direct)
--   utm_source, utm_medium, utm_campaign   its first page view carried this UTM value
--   browser, os              it ran in this browser (operating system)
--   event                    it sent this custom event (a track event by name)
--   property=plan%3Dpro      it sent a track event (the `event` one, when that key is set too) whose property
--                            `plan` has the value `pro`: the value is `name=value`, split at its first '=', so
--                            a name holds no '=' and a value may. A property's value as text: a JSON string
--                            unquoted, anything else as JSON writes it (3, 1.5, true, null, {"a":1}); the
--                            event_properties query lists the same text. Only events that have the property match.
--                            One key for every property, not a key per property name (prop.plan=pro): the keys
--                            stay a closed list that the library, the read API and this view check alike.
-- Several keys: sessions that match every one. Another key is an error, not a filter left out. Events without
-- a session id (server-side calls) match no filter.
--
-- The first and last page views are the tuples tidemark.session_rows builds (the time leads; a tie is broken
-- by host and path), so a filter on entry page picks the sessions the entry_pages query lists under it.
--
-- Cost: the keys are constants, so each part reads only the rows that can witness a key. The whole hours: the
-- asked values' rows of tidemark.session_values (a primary-key range each: the page's, the browser's, …), and the
-- sessions' first and last page views from tidemark.session_hours only when a key of those asks for them. The
-- edges: the same witnesses from tidemark.events. A `property` key, and an `event` key naming an event the rollup
-- does not keep (a `$` event such as $web_vital), read tidemark.events for the whole range, the property's events
-- only, so that only such a key reads and parses the properties column (JSON text); when none is set those WHEREs
-- are a constant false and ClickHouse reads nothing for them.
CREATE OR REPLACE VIEW tidemark.filtered_sessions {{on_cluster}} AS
WITH
    concat('?', {filter:String}) AS query,
    extractURLParameterNames(query) AS keys,
    decodeURLFormComponent(extractURLParameter(query, 'page')) AS page,
    decodeURLFormComponent(extractURLParameter(query, 'entry_page')) AS entry_page,
    decodeURLFormComponent(extractURLParameter(query, 'exit_page')) AS exit_page,
    decodeURLFormComponent(extractURLParameter(query, 'referrer')) AS referrer,
    decodeURLFormComponent(extractURLParameter(query, 'utm_source')) AS utm_source_value,
    decodeURLFormComponent(extractURLParameter(query, 'utm_medium')) AS utm_medium_value,
    decodeURLFormComponent(extractURLParameter(query, 'utm_campaign')) AS utm_campaign_value,
    -- Keys of the first or last page view: they need every page view of the session.
    hasAny(keys, ['entry_page', 'exit_page', 'referrer', 'utm_source', 'utm_medium', 'utm_campaign']) AS ends
SELECT
    session,
    min(entry) AS entry,
    max(exit) AS exit
FROM
(
    -- The whole hours' witnesses of page, browser, os and event keys. The outer WITH does not reach into these
    -- subqueries: each part names the keys it reads again.
    WITH
        concat('?', {filter:String}) AS query,
        extractURLParameterNames(query) AS keys,
        decodeURLFormComponent(extractURLParameter(query, 'page')) AS page,
        decodeURLFormComponent(extractURLParameter(query, 'browser')) AS browser_value,
        decodeURLFormComponent(extractURLParameter(query, 'os')) AS os_value,
        decodeURLFormComponent(extractURLParameter(query, 'event')) AS event_value,
        {{whole_hours}}
    SELECT
        session,
        toUInt64(dimension = 'page' AND value = page) AS page_hits,
        toUInt64(dimension = 'browser' AND value = browser_value) AS browser_hits,
        toUInt64(dimension = 'os' AND value = os_value) AS os_hits,
        toUInt64(dimension = 'event' AND value = event_value) AS event_hits,
        toUInt64(0) AS property_hits,
        toUInt64(0) AS pageviews,
        (toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'), '', '', '', '', '', '') AS entry,
        (toDateTime64(0, 3, 'UTC'), '', '') AS exit
    FROM tidemark.session_values
    WHERE {filter:String} != ''
      -- A scalar subquery, so that the check runs even when no row reaches the WHERE (a key no witness stands for).
      AND (SELECT throwIf(
               NOT hasAll(
                   ['page', 'entry_page', 'exit_page', 'referrer', 'utm_source', 'utm_medium', 'utm_campaign',
                    'browser', 'os', 'event', 'property'],
                   extractURLParameterNames(concat('?', {filter:String})))
               OR length(extractURLParameterNames(concat('?', {filter:String})))
                   != length(arrayDistinct(extractURLParameterNames(concat('?', {filter:String}))))
               -- A property's value is name=value with a name.
               OR (has(extractURLParameterNames(concat('?', {filter:String})), 'property')
                   AND position(decodeURLFormComponent(
                           extractURLParameter(concat('?', {filter:String}), 'property')), '=') < 2),
               'filter: each key once, of page, entry_page, exit_page, referrer, utm_source, utm_medium, '
               || 'utm_campaign, browser, os, event, property (its value name=value)')) = 0
      AND project_id = {project:String}
      AND ((has(keys, 'page') AND dimension = 'page' AND value = page)
           OR (has(keys, 'browser') AND dimension = 'browser' AND value = browser_value)
           OR (has(keys, 'os') AND dimension = 'os' AND value = os_value)
           OR (has(keys, 'event') AND dimension = 'event' AND value = event_value))
      AND hour >= hours_from
      AND hour < hours_to
      {{filters}}
    UNION ALL
    -- The whole hours' first and last page views, when a key asks for them.
    WITH
        hasAny(extractURLParameterNames(concat('?', {filter:String})),
               ['entry_page', 'exit_page', 'referrer', 'utm_source', 'utm_medium', 'utm_campaign']) AS ends,
        {{whole_hours}}
    SELECT session, 0, 0, 0, 0, 0, pageviews, entry, exit
    FROM tidemark.session_hours
    WHERE ends
      AND project_id = {project:String}
      AND hour >= hours_from
      AND hour < hours_to
      {{filters}}
    UNION ALL
    -- The edges' witnesses, and the whole range's for an event the rollup does not keep.
    WITH
        concat('?', {filter:String}) AS query,
        extractURLParameterNames(query) AS keys,
        decodeURLFormComponent(extractURLParameter(query, 'page')) AS page,
        decodeURLFormComponent(extractURLParameter(query, 'browser')) AS browser_value,
        decodeURLFormComponent(extractURLParameter(query, 'os')) AS os_value,
        decodeURLFormComponent(extractURLParameter(query, 'event')) AS event_value,
        hasAny(keys, ['entry_page', 'exit_page', 'referrer', 'utm_source', 'utm_medium', 'utm_campaign']) AS ends,
        -- session_values keeps custom events only (040's rule: a track event whose name does not start with $).
        has(keys, 'event') AND startsWith(event_value, '$') AS raw_event,
        {{whole_hours}}
    SELECT
        reinterpretAsUInt128(sipHash128(session_id)) AS session,
        toUInt64(type = 'page' AND path = page) AS page_hits,
        toUInt64(browser = browser_value) AS browser_hits,
        toUInt64(os = os_value) AS os_hits,
        toUInt64(type = 'track' AND event = event_value) AS event_hits,
        toUInt64(0) AS property_hits,
        toUInt64(type = 'page') AS pageviews,
        (if(type = 'page', timestamp, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC')), toString(host), path,
         toString(referrer_host), toString(utm_source), toString(utm_medium), utm_campaign) AS entry,
        (if(type = 'page', timestamp, toDateTime64(0, 3, 'UTC')), toString(host), path) AS exit
    FROM tidemark.events
    WHERE {filter:String} != ''
      AND project_id = {project:String}
      AND timestamp >= {from:DateTime64(3, 'UTC')}
      AND timestamp < {to:DateTime64(3, 'UTC')}
      AND (timestamp < hours_from OR timestamp >= hours_to
           OR (raw_event AND type = 'track' AND event = event_value))
      AND bot_reason = ''
      AND session_id != ''
      -- The rows that can witness a key.
      AND ((ends AND type = 'page')
           OR (has(keys, 'page') AND type = 'page' AND path = page)
           OR (has(keys, 'browser') AND browser = browser_value)
           OR (has(keys, 'os') AND os = os_value)
           OR (has(keys, 'event') AND type = 'track' AND event = event_value))
      {{filters}}
    UNION ALL
    -- The track events a `property` key asks for (the `event` one, when that key is set too), the whole range.
    WITH
        concat('?', {filter:String}) AS query,
        extractURLParameterNames(query) AS keys,
        decodeURLFormComponent(extractURLParameter(query, 'event')) AS event_value,
        decodeURLFormComponent(extractURLParameter(query, 'property')) AS property_pair,
        substring(property_pair, 1, position(property_pair, '=') - 1) AS property_name,
        substring(property_pair, position(property_pair, '=') + 1) AS property_value
    SELECT
        reinterpretAsUInt128(sipHash128(session_id)) AS session,
        0, 0, 0, 0,
        toUInt64(1) AS property_hits,
        0,
        (toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'), '', '', '', '', '', '') AS entry,
        (toDateTime64(0, 3, 'UTC'), '', '') AS exit
    FROM tidemark.events
    WHERE has(keys, 'property')
      AND project_id = {project:String}
      AND timestamp >= {from:DateTime64(3, 'UTC')}
      AND timestamp < {to:DateTime64(3, 'UTC')}
      AND bot_reason = ''
      AND session_id != ''
      AND type = 'track'
      AND (NOT has(keys, 'event') OR event = event_value)
      AND JSONHas(properties, property_name)
      AND if(JSONType(properties, property_name) = 'String', JSONExtractString(properties, property_name),
             JSONExtractRaw(properties, property_name)) = property_value
      {{filters}}
)
GROUP BY session
HAVING
    (NOT has(keys, 'page') OR sum(page_hits) > 0)
    -- A first or last page view needs a session with one (a visit, as the session queries say).
    AND (NOT ends OR sum(pageviews) > 0)
    AND (NOT has(keys, 'entry_page') OR entry.3 = entry_page)
    AND (NOT has(keys, 'exit_page') OR exit.3 = exit_page)
    AND (NOT has(keys, 'referrer') OR entry.4 = referrer)
    AND (NOT has(keys, 'utm_source') OR entry.5 = utm_source_value)
    AND (NOT has(keys, 'utm_medium') OR entry.6 = utm_medium_value)
    AND (NOT has(keys, 'utm_campaign') OR entry.7 = utm_campaign_value)
    AND (NOT has(keys, 'browser') OR sum(browser_hits) > 0)
    AND (NOT has(keys, 'os') OR sum(os_hits) > 0)
    AND (NOT has(keys, 'event') OR sum(event_hits) > 0)
    AND (NOT has(keys, 'property') OR sum(property_hits) > 0);

-- The no-filter twin: what tidemark.<view>_unfiltered(…) checks its sessions against (renderViews in
-- store/src/migrationRender.ts writes a twin of every view that takes `filter`). The twins serve a query run
-- without a filter, which never reads this set, but ClickHouse plans every subquery a statement names before it
-- folds `'' = '' OR session IN (…)` away: planning filtered_sessions costs ~30 ms of CPU per reference, this ~1 ms.
-- Given a filter anyway, it refuses instead of keeping every session.
CREATE OR REPLACE VIEW tidemark.filtered_sessions_unfiltered {{on_cluster}} AS
SELECT toUInt128(0) AS session
WHERE throwIf({filter:String} != '', 'tidemark.*_unfiltered views take no filter: call the view without the suffix');
