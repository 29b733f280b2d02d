-- The distinct ids of a range and the filters: whole UTC hours from tidemark.distinct_id_hours (032), with a
-- `filter` from tidemark.session_values (041, the filtered sessions' rows), the minutes before the first and after
-- the last whole hour from tidemark.events. Parameters as in the ready queries.
CREATE OR REPLACE VIEW tidemark.distinct_id_rows {{on_cluster}} AS
WITH
    {{whole_hours}}
SELECT id
FROM tidemark.distinct_id_hours
WHERE project_id = {project:String}
  AND hour >= hours_from
  AND hour < hours_to
  AND {filter:String} = ''
  {{filters}}
UNION ALL
-- The filtered sessions' whole hours (session_values, with a filter only) and the edges (a constant false when the
-- range starts and ends on the hour, so nothing is read), their sessions checked once for both.
SELECT DISTINCT id
FROM
(
    WITH {{whole_hours}}
    SELECT id, session
    {{filtered_session_values}}
      AND dimension = ''
    UNION ALL
    WITH {{whole_hours}}
    SELECT
        reinterpretAsUInt128(sipHash128(if(user_id != '', user_id, anonymous_id))) AS id,
        reinterpretAsUInt128(sipHash128(session_id)) AS session
    FROM tidemark.events
    {{edge_rows}}
      {{filters}}
)
WHERE {filter:String} = '' OR session {{in_filtered_sessions}};
