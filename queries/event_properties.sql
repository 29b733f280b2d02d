-- Event properties: for one custom event, each property's values, how often each was sent and by how many visitors.
--
-- Parameters (pass every one; an empty string turns a filter off):
--   project      String                 project id
--   from, to     DateTime64(3, 'UTC')   time range in UTC, `from` included, `to` excluded
--   host         String                 only events on this host ('' = every host)
--   country      String                 only events from this country code ('' = every country)
--   device_type  String                 only events from this device type, e.g. mobile ('' = every type)
--   filter       String                 more filters, each keeping the sessions that match it, as a URL query
--                                       string: page=%2Fpricing&browser=Firefox ('' = none; the keys are in
--                                       store/sql/views/01_filtered_sessions.sql)
--   event        String                 the track event's name, e.g. Signup Started
--   limit        UInt32                 how many values to return per property
--
-- Returns property, value, events (how many of the event carried that value), visitors, sessions; by property,
-- then most events first. A value is text: a JSON string unquoted, anything else as JSON writes it (3, 1.5, true,
-- null, {"a":1}), the text a `property=name%3Dvalue` filter matches. An event without a property is not counted
-- under it; properties nested in an object are one value, the object.
--
-- Reads tidemark.events (no rollup holds properties). No FINAL: tidemark.events stores an event_id once
-- (store/sql/008). Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo \
--     --param_from='2026-03-01 00:00:00' --param_to='2026-04-01 00:00:00' \
--     --param_host='' --param_country='' --param_device_type='' --param_filter='' \
--     --param_event='Signup Started' --param_limit=10 \
--     --queries-file queries/event_properties.sql

SELECT
    property,
    if(JSONType(properties, property) = 'String', JSONExtractString(properties, property),
       JSONExtractRaw(properties, property)) AS value,
    count() AS events,
    uniqExact(anonymous_id) AS visitors,
    uniqExactIf(session_id, session_id != '') AS sessions
FROM tidemark.events
ARRAY JOIN JSONExtractKeys(properties) AS property
WHERE project_id = {project:String}
  AND timestamp >= {from:DateTime64(3, 'UTC')}
  AND timestamp < {to:DateTime64(3, 'UTC')}
  AND type = 'track'
  AND event = {event:String}
  AND bot_reason = ''
  AND ({host:String} = '' OR host = {host:String})
  AND ({country:String} = '' OR country = {country:String})
  AND ({device_type:String} = '' OR device_type = {device_type:String})
  AND ({filter:String} = '' OR reinterpretAsUInt128(sipHash128(session_id)) GLOBAL IN (
        SELECT session FROM tidemark.filtered_sessions(
            project = {project:String}, from = {from:DateTime64(3, 'UTC')}, to = {to:DateTime64(3, 'UTC')},
            host = {host:String}, country = {country:String}, device_type = {device_type:String},
            filter = {filter:String})))
GROUP BY property, value
ORDER BY property, events DESC, value
LIMIT {limit:UInt32} BY property
