-- tidemark.filtered_sessions(…): the sessions a `filter` keeps, by their events inside the range and the host,
-- country and device type filters. Every view below and the ready queries that read tidemark.events keep only
-- these sessions' events when `filter` is set, and then read the whole range from tidemark.events: the rollups
-- hold no session ids, so they cannot answer it (docs/architecture.md §6b).
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
-- Cost: the keys are constants, so the WHERE reads only the rows that can witness a key (the page views with the
-- asked path, the events of the asked browser, …), and every page view only when a key of the first or last
-- page view asks for them. A `property` key's events are a read of their own (the UNION ALL's second part), so
-- that only that key reads and parses the properties column (JSON text): when no `property` key is set its
-- WHERE is a constant false and ClickHouse reads nothing for it.
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
    decodeURLFormComponent(extractURLParameter(query, 'browser')) AS browser_value,
    decodeURLFormComponent(extractURLParameter(query, 'os')) AS os_value,
    decodeURLFormComponent(extractURLParameter(query, 'event')) AS event_value,
    -- Keys of the first or last page view: they need every page view of the session.
    hasAny(keys, ['entry_page', 'exit_page', 'referrer', 'utm_source', 'utm_medium', 'utm_campaign']) AS ends
SELECT
    session_id,
    min((if(type = 'page', timestamp, toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC')), toString(host), path,
         toString(referrer_host), toString(utm_source), toString(utm_medium), utm_campaign)) AS entry,
    max((if(type = 'page', timestamp, toDateTime64(0, 3, 'UTC')), toString(host), path)) AS exit
FROM
(
    -- The outer WITH does not reach into these subqueries: each part names the keys it reads again.
    WITH
        concat('?', {filter:String}) AS query,
        extractURLParameterNames(query) AS keys,
        decodeURLFormComponent(extractURLParameter(query, 'page')) AS page,
        decodeURLFormComponent(extractURLParameter(query, 'browser')) AS browser_value,
        decodeURLFormComponent(extractURLParameter(query, 'os')) AS os_value,
        decodeURLFormComponent(extractURLParameter(query, 'event')) AS event_value,
        hasAny(keys, ['entry_page', 'exit_page', 'referrer', 'utm_source', 'utm_medium', 'utm_campaign']) AS ends
    SELECT session_id, type, timestamp, host, path, referrer_host, utm_source, utm_medium, utm_campaign, browser, os,
           event, 0 AS property_event
    FROM tidemark.events
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
      AND timestamp >= {from:DateTime64(3, 'UTC')}
      AND timestamp < {to:DateTime64(3, 'UTC')}
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
    -- The track events a `property` key asks for (the `event` one, when that key is set too).
    WITH
        concat('?', {filter:String}) AS query,
        extractURLParameterNames(query) AS keys,
        decodeURLFormComponent(extractURLParameter(query, 'event')) AS event_value,
        decodeURLFormComponent(extractURLParameter(query, 'property')) AS property_pair,
        substring(property_pair, 1, position(property_pair, '=') - 1) AS property_name,
        substring(property_pair, position(property_pair, '=') + 1) AS property_value
    SELECT session_id, type, timestamp, host, path, referrer_host, utm_source, utm_medium, utm_campaign, browser, os,
           event, 1 AS property_event
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
GROUP BY session_id
HAVING
    (NOT has(keys, 'page') OR countIf(type = 'page' AND path = page) > 0)
    -- A first or last page view needs a session with one (a visit, as the session queries say).
    AND (NOT ends OR countIf(type = 'page') > 0)
    AND (NOT has(keys, 'entry_page') OR entry.3 = entry_page)
    AND (NOT has(keys, 'exit_page') OR exit.3 = exit_page)
    AND (NOT has(keys, 'referrer') OR entry.4 = referrer)
    AND (NOT has(keys, 'utm_source') OR entry.5 = utm_source_value)
    AND (NOT has(keys, 'utm_medium') OR entry.6 = utm_medium_value)
    AND (NOT has(keys, 'utm_campaign') OR entry.7 = utm_campaign_value)
    AND (NOT has(keys, 'browser') OR countIf(browser = browser_value) > 0)
    AND (NOT has(keys, 'os') OR countIf(os = os_value) > 0)
    AND (NOT has(keys, 'event') OR countIf(type = 'track' AND event = event_value) > 0)
    AND (NOT has(keys, 'property') OR countIf(property_event = 1) > 0);
