-- Run once by the ClickHouse image when its data volume is first created (/docker-entrypoint-initdb.d), as the
-- `tidemark` user of docker-compose.yml, which has access management. It creates the user the gateway's read API
-- reads as (TIDEMARK_READ_CLICKHOUSE_USER): SELECT on the analytics database and nothing else, so neither a
-- statement that slipped past the gateway's check nor a leaked password can write, or read system tables or
-- other databases. readonly = 2 keeps writes and DDL refused by the session too, while still letting the gateway
-- set its per-query limits (max_execution_time, max_result_rows). Change the password for anything but a trial.
CREATE USER IF NOT EXISTS tidemark_reader IDENTIFIED WITH sha256_password BY 'tidemark-reader' SETTINGS readonly = 2;
GRANT SELECT ON tidemark.* TO tidemark_reader;
