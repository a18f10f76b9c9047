-- The transaction id below which every event is committed or never will be, as seen by the
-- calling statement's snapshot. read_all returns only events below it, so a reader never
-- steps past an event whose transaction commits late.
--
-- Transactions known to run in ANOTHER database are left out: they cannot write our events,
-- and a long one (a report, a migration next door) must not stall readers here. A transaction
-- still in progress for our snapshot but already gone from pg_stat_activity may have been
-- ours, so it holds the horizon back. STABLE: evaluated with the caller's snapshot.
CREATE FUNCTION bilan_read_horizon() RETURNS xid8
LANGUAGE sql STABLE AS $$
    WITH snap AS (SELECT pg_current_snapshot() AS s),
         foreign_xids AS (
             SELECT a.backend_xid::text::bigint AS low
             FROM pg_stat_activity a
             WHERE a.backend_xid IS NOT NULL
               AND a.datname IS DISTINCT FROM current_database()
         )
    SELECT coalesce(min(x), (SELECT pg_snapshot_xmax(s) FROM snap))
    FROM snap, pg_snapshot_xip(snap.s) AS x
    WHERE (x::text::bigint & 4294967295) NOT IN (SELECT low FROM foreign_xids)
$$;
