-- Active visitors: who is on the site right now, as distinct visitors with any event in the last few minutes, and
-- the page views among those events. The dashboard's "active in the last 5 minutes".
--
-- Parameters (pass every one; an empty string turns a filter off):
--   project      String                 project id
--   minutes      UInt32                 how far back "now" reaches, in minutes, from the server's clock
--   host         String                 only events on this host ('' = every host)
--   country      String                 only events from this country code ('' = every country)
--   device_type  String                 only events from this device type, e.g. mobile ('' = every type)
--   filter       String                 more filters, each keeping the sessions that match it, as a URL query
--                                       string: page=%2Fpricing&browser=Firefox ('' = none; the keys are in
--                                       store/sql/views/01_filtered_sessions.sql). Set, it reads tidemark.events.
--
-- Returns one row: visitors (distinct anonymous ids with an event stamped within the last `minutes`) and
-- pageviews (page views among those events).
--
-- The window is measured on the event's timestamp, not received_at: timestamp leads the table's sorting key, so
-- only today's (and at midnight yesterday's) granules are read, and it is the client's time, corrected by the
-- gateway where the client's clock is far off (DESIGN §3). An event stamped a little in
-- the future by a clock within the skew threshold counts as active. No FINAL: tidemark.events stores an event_id
-- once (store/sql/008), and the rare copy that check cannot see (older than its window, or through another node
-- of a cluster) is counted here as the rollups behind every other panel count it. FINAL would merge the whole
-- day's rows of the sorting key's date, not the last minutes': ~90 ms of CPU at 10M events, ten times that at
-- 100M. Events flagged as bots are left out.
--
--   clickhouse client --param_project=demo --param_minutes=5 \
--     --param_host= --param_country= --param_device_type= --param_filter= --queries-file queries/active_visitors.sql

WITH
    events AS
    (
        SELECT anonymous_id, type
        FROM tidemark.events
        WHERE project_id = {project:String}
          AND timestamp >= now64(3, 'UTC') - toIntervalMinute({minutes:UInt32})
          AND bot_reason = ''
          AND ({host:String} = '' OR host = {host:String})
          AND ({country:String} = '' OR country = {country:String})
          AND ({device_type:String} = '' OR device_type = {device_type:String})
          AND ({filter:String} = '' OR reinterpretAsUInt128(sipHash128(session_id)) GLOBAL IN (
                SELECT session FROM tidemark.filtered_sessions(
                    project = {project:String}, from = now64(3, 'UTC') - toIntervalMinute({minutes:UInt32}),
                    to = toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC'),
                    host = {host:String}, country = {country:String}, device_type = {device_type:String},
                    filter = {filter:String})))
    )
SELECT uniqExact(anonymous_id) AS visitors, countIf(type = 'page') AS pageviews
FROM events
