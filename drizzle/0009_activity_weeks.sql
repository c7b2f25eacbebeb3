-- Monday-based weeks in plain date arithmetic (issue 14, measured at 1M users / ~70M account-days).
--
-- activity_new_week (0006) called date_trunc('week', date), which casts the date to timestamptz: a STABLE function,
-- so PostgreSQL could not inline the IMMUTABLE SQL wrapper and ran it through the function executor for each row
-- (~10 µs a row: most of rebuild_activity_rollups()). The same test on dates alone is immutable, inlined, and gives
-- the same answer in every session time zone.
CREATE FUNCTION "activity_week"(day date) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT day - (extract(isodow FROM day)::int - 1)
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "activity_new_week"(day date, prev_day date) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT prev_day IS NULL OR prev_day < activity_week(day)
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "rebuild_activity_rollups"() RETURNS void LANGUAGE sql AS $$
	DELETE FROM activity_daily;
	INSERT INTO activity_daily (day, gap, shard, users)
	SELECT day, activity_gap(day, prev_day), user_id % 16, count(*) FROM user_activity GROUP BY 1, 2, 3;
	DELETE FROM activity_weekly;
	INSERT INTO activity_weekly (cohort, week, shard, users)
	SELECT activity_week((u.created_at AT TIME ZONE 'UTC')::date), activity_week(a.day), a.user_id % 16, count(*)
	FROM user_activity a JOIN users u ON u.id = a.user_id
	WHERE activity_new_week(a.day, a.prev_day) GROUP BY 1, 2, 3;
$$;
