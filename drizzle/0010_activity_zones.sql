-- Rollups per tracked time zone (issue 14): the UTC rollups of 0006 for a named zone, so a team in Paris reads
-- counters too instead of every account-day's quarter-hour mask (seconds at 1M users; see docs/analytics.md).
--
-- A zone is tracked from the database, not from a Worker binding: `SELECT activity_track_zone('Europe/Paris')`
-- (`npm run db:track-zone -- Europe/Paris`) backfills its rollups from the masks and starts maintaining them in one
-- transaction, so no configuration can name a zone whose history is missing. Zones not tracked are still answered
-- exactly from the masks. Days and weeks here are calendar days and Monday-based weeks of the zone, whatever their
-- length (the masks decide which local days an account was active on, daylight-saving days included).
CREATE TABLE "activity_zones" (
	"zone" text PRIMARY KEY NOT NULL,
	"tracked_since" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- No foreign key on `zone` in the tables below: checked per row it was most of a backfill's time; rows leave with
-- activity_untrack_zone().
--
-- Per tracked zone and account: its latest local active day and the one before it, kept by the sign-in and refresh
-- statements (an upsert that changes the row only on the account's first activity of a local day).
CREATE TABLE "activity_zone_last" (
	"zone" text NOT NULL,
	"user_id" integer NOT NULL,
	"day" date NOT NULL,
	"prev_day" date,
	CONSTRAINT "activity_zone_last_pkey" PRIMARY KEY ("zone", "user_id")
);
--> statement-breakpoint
ALTER TABLE "activity_zone_last" ADD CONSTRAINT "activity_zone_last_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
-- As activity_daily and activity_weekly, per zone: local days, local sign-up weeks, local activity weeks.
CREATE TABLE "activity_zone_daily" (
	"zone" text NOT NULL,
	"day" date NOT NULL,
	"gap" smallint NOT NULL,
	"shard" smallint NOT NULL,
	"users" integer NOT NULL,
	CONSTRAINT "activity_zone_daily_pkey" PRIMARY KEY ("zone", "day", "gap", "shard")
);
--> statement-breakpoint
CREATE TABLE "activity_zone_weekly" (
	"zone" text NOT NULL,
	"cohort" date NOT NULL,
	"week" date NOT NULL,
	"shard" smallint NOT NULL,
	"users" integer NOT NULL,
	CONSTRAINT "activity_zone_weekly_pkey" PRIMARY KEY ("zone", "cohort", "week", "shard")
);
--> statement-breakpoint
-- (utc_day, day, mask) for the UTC days from `first` to `last`: the calendar days of `zone` each overlaps (one or
-- two) and which of its quarter-hours belong to each. The SQL twin of localSpans() in src/routes/stats/zone.ts.
-- Materialized so each mask is computed once per span, not once per joined account-day.
CREATE FUNCTION "activity_zone_spans"(zone text, first date, last date) RETURNS TABLE (utc_day date, day date, mask bit(96))
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	WITH spans AS MATERIALIZED (
		SELECT u.utc_day, d.day, activity_mask(u.utc_day, d.starts, d.ends) AS mask
		FROM (SELECT g::date AS day, g::date::timestamp AT TIME ZONE zone AS starts, (g::date + 1)::timestamp AT TIME ZONE zone AS ends
		      FROM generate_series((first - 1)::timestamp, (last + 1)::timestamp, interval '1 day') g) d
		CROSS JOIN LATERAL (
			SELECT g::date AS utc_day
			FROM generate_series((d.starts AT TIME ZONE 'UTC')::date, ((d.ends - interval '1 microsecond') AT TIME ZONE 'UTC')::date, interval '1 day') g
		) u
		WHERE u.utc_day BETWEEN first AND last
	)
	SELECT utc_day, day, mask FROM spans WHERE mask <> repeat('0', 96)::bit(96)
$$;
--> statement-breakpoint
-- Recomputes one tracked zone's rows from user_activity: per account its local active days (from the masks), the gap
-- to the previous one, the latest two. One sort of all (account, local day) pairs: minutes at ~70M account-days.
CREATE FUNCTION "rebuild_activity_zone"(z text) RETURNS void LANGUAGE plpgsql SET work_mem = '256MB' AS $$
DECLARE
	first date;
	last date;
BEGIN
	DELETE FROM activity_zone_last WHERE zone = z;
	DELETE FROM activity_zone_daily WHERE zone = z;
	DELETE FROM activity_zone_weekly WHERE zone = z;
	SELECT min(day), max(day) INTO first, last FROM user_activity;
	IF first IS NULL THEN
		RETURN;
	END IF;
	-- A local day can come from two UTC rows: the one sort of the window keeps one copy (the last of its day) without a
	-- separate DISTINCT, whose hash table would not fit in memory at scale.
	CREATE TEMP TABLE activity_zone_days ON COMMIT DROP AS
	SELECT user_id, day, prev_day, next IS NULL AS latest
	FROM (SELECT a.user_id, s.day,
	             max(s.day) OVER (w RANGE BETWEEN UNBOUNDED PRECEDING AND '1 day' PRECEDING) AS prev_day,
	             lead(s.day) OVER w AS next
	      FROM user_activity a JOIN activity_zone_spans(z, first, last) s ON s.utc_day = a.day AND a.quarters & s.mask <> repeat('0', 96)::bit(96)
	      WINDOW w AS (PARTITION BY a.user_id ORDER BY s.day)) x
	WHERE next IS DISTINCT FROM day;
	INSERT INTO activity_zone_last (zone, user_id, day, prev_day) SELECT z, user_id, day, prev_day FROM activity_zone_days WHERE latest;
	INSERT INTO activity_zone_daily (zone, day, gap, shard, users)
	SELECT z, day, activity_gap(day, prev_day), user_id % 16, count(*) FROM activity_zone_days GROUP BY 2, 3, 4;
	INSERT INTO activity_zone_weekly (zone, cohort, week, shard, users)
	SELECT z, activity_week((u.created_at AT TIME ZONE z)::date), activity_week(d.day), d.user_id % 16, count(*)
	FROM activity_zone_days d JOIN users u ON u.id = d.user_id
	WHERE activity_new_week(d.day, d.prev_day) GROUP BY 2, 3, 4;
	DROP TABLE activity_zone_days;
END;
$$;
--> statement-breakpoint
-- Starts tracking a zone (idempotent: tracking it again rebuilds it). Sign-ins and refreshes wait while it runs
-- (SHARE lock on user_activity), so no activity falls between the backfill and the first incremental write.
CREATE FUNCTION "activity_track_zone"(z text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF z = 'UTC' THEN
		RAISE EXCEPTION 'UTC is always tracked (activity_daily, activity_weekly)';
	END IF;
	PERFORM now() AT TIME ZONE z; -- an unknown zone fails here (22023)
	LOCK TABLE user_activity IN SHARE MODE;
	INSERT INTO activity_zones (zone) VALUES (z) ON CONFLICT DO NOTHING;
	PERFORM rebuild_activity_zone(z);
END;
$$;
--> statement-breakpoint
CREATE FUNCTION "activity_untrack_zone"(z text) RETURNS void LANGUAGE sql AS $$
	DELETE FROM activity_zones WHERE zone = z;
	DELETE FROM activity_zone_last WHERE zone = z;
	DELETE FROM activity_zone_daily WHERE zone = z;
	DELETE FROM activity_zone_weekly WHERE zone = z;
$$;
--> statement-breakpoint
-- The rebuild of 0006/0009 keeps its body under a new name; rebuild_activity_rollups() now covers the zones too.
ALTER FUNCTION "rebuild_activity_rollups"() RENAME TO "rebuild_activity_utc_rollups";
--> statement-breakpoint
CREATE FUNCTION "rebuild_activity_rollups"() RETURNS void LANGUAGE sql AS $$
	SELECT rebuild_activity_utc_rollups();
	SELECT rebuild_activity_zone(zone) FROM activity_zones ORDER BY zone;
$$;
--> statement-breakpoint
-- One account's local active days in every tracked zone, with the previous one: what it added to the zone rollups.
CREATE FUNCTION "activity_user_zone_days"(uid integer) RETURNS TABLE (zone text, day date, prev_day date) LANGUAGE sql STABLE AS $$
	SELECT zone, day, lag(day) OVER (PARTITION BY zone ORDER BY day)
	FROM (SELECT DISTINCT z.zone, s.day
	      FROM activity_zones z
	      CROSS JOIN (SELECT min(day) AS first, max(day) AS last FROM user_activity WHERE user_id = uid) b
	      CROSS JOIN LATERAL activity_zone_spans(z.zone, b.first, b.last) s
	      JOIN user_activity a ON a.user_id = uid AND a.day = s.utc_day AND a.quarters & s.mask <> repeat('0', 96)::bit(96)
	      WHERE b.first IS NOT NULL) x
$$;
--> statement-breakpoint
-- A deleted account leaves the zone rollups too (its local days recomputed from its own masks, while they are there).
CREATE OR REPLACE FUNCTION "activity_forget_user"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE activity_daily d SET users = d.users - r.n
	FROM (SELECT day, activity_gap(day, prev_day) AS gap, count(*) AS n FROM user_activity WHERE user_id = OLD.id GROUP BY 1, 2) r
	WHERE d.day = r.day AND d.gap = r.gap AND d.shard = OLD.id % 16;
	UPDATE activity_weekly w SET users = w.users - r.n
	FROM (SELECT activity_week(day) AS week, count(*) AS n FROM user_activity
	      WHERE user_id = OLD.id AND activity_new_week(day, prev_day) GROUP BY 1) r
	WHERE w.cohort = activity_week((OLD.created_at AT TIME ZONE 'UTC')::date) AND w.week = r.week AND w.shard = OLD.id % 16;
	IF EXISTS (SELECT 1 FROM activity_zones) THEN
		UPDATE activity_zone_daily d SET users = d.users - r.n
		FROM (SELECT zone, day, activity_gap(day, prev_day) AS gap, count(*) AS n FROM activity_user_zone_days(OLD.id) GROUP BY 1, 2, 3) r
		WHERE d.zone = r.zone AND d.day = r.day AND d.gap = r.gap AND d.shard = OLD.id % 16;
		UPDATE activity_zone_weekly w SET users = w.users - r.n
		FROM (SELECT zone, activity_week(day) AS week, count(*) AS n FROM activity_user_zone_days(OLD.id)
		      WHERE activity_new_week(day, prev_day) GROUP BY 1, 2) r
		WHERE w.zone = r.zone AND w.cohort = activity_week((OLD.created_at AT TIME ZONE r.zone)::date) AND w.week = r.week
		  AND w.shard = OLD.id % 16;
	END IF;
	RETURN OLD;
END;
$$;
