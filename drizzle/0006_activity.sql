-- Activity (contract §11) and two limits at 1M users (issue 14). See docs/analytics.md for the measurements.
--
-- user_activity: one row per account per UTC day it was active, with a 96-bit mask of the quarter-hours (UTC) it was
-- active in. Every offset any IANA zone uses today is a multiple of 15 minutes, so a calendar day in any zone is a
-- union of whole quarter-hours of one or two UTC days, and the mask answers "active on that local day" exactly,
-- daylight-saving days (23 or 25 hours) included. Rows of past days never change, so they stay all-visible and the
-- stats read them with index-only scans of the primary key (day first: every query reads a range of days).
CREATE TABLE "user_activity" (
	"day" date NOT NULL,
	"user_id" integer NOT NULL,
	"quarters" bit(96) NOT NULL,
	-- The account's previous active UTC day (null: its first): what the UTC rollups below are keyed by.
	"prev_day" date,
	CONSTRAINT "user_activity_pkey" PRIMARY KEY ("day", "user_id") INCLUDE ("quarters")
);
--> statement-breakpoint
ALTER TABLE "user_activity" ADD CONSTRAINT "user_activity_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
-- Serves the cascade when a user is deleted and the retention cohorts (a cohort's members, then their days).
CREATE INDEX "user_activity_user_id_day_idx" ON "user_activity" USING btree ("user_id", "day");
--> statement-breakpoint
-- The latest activity of each account: the overview's rolling 24 h / 7 d / 30 d windows are range counts on it.
-- Its own narrow table, not a column of users: it changes every quarter-hour of activity, and on users every such
-- update would also touch the trigram indexes.
CREATE TABLE "user_last_activity" (
	"user_id" integer PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "user_last_activity" ADD CONSTRAINT "user_last_activity_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "user_last_activity_at_idx" ON "user_last_activity" USING btree ("at");
--> statement-breakpoint
-- The mask with only the quarter-hour of `at` (UTC) set.
CREATE FUNCTION "activity_quarter"(at timestamptz) RETURNS bit(96) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT set_bit(repeat('0', 96)::bit(96),
		(extract(hour FROM at AT TIME ZONE 'UTC')::int * 4 + extract(minute FROM at AT TIME ZONE 'UTC')::int / 15), 1)
$$;
--> statement-breakpoint
-- The quarter-hours of UTC day `day` that overlap [starts, ends): what a row of that day must have for the account to
-- count as active in that interval.
CREATE FUNCTION "activity_mask"(day date, starts timestamptz, ends timestamptz) RETURNS bit(96) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN hi <= lo THEN repeat('0', 96)::bit(96)
		ELSE (repeat('0', lo) || repeat('1', hi - lo) || repeat('0', 96 - hi))::bit(96) END
	FROM (SELECT greatest(0, floor((extract(epoch FROM starts) - extract(epoch FROM day::timestamp)) / 900))::int AS lo,
	             least(96, ceil((extract(epoch FROM ends) - extract(epoch FROM day::timestamp)) / 900))::int AS hi) b
$$;
--> statement-breakpoint
-- UTC rollups, maintained by the same statements that write user_activity (src/lib/activity.ts), so the figures in
-- UTC (the default zone) read a few hundred counters instead of every account-day. Other zones read user_activity.
--
-- activity_daily: per UTC day, the accounts whose first activity of that day came `gap` days after their previous
-- active day (0: their first ever; 31: 31 days or more). The accounts active in the w days ending on E are those whose
-- first active day a in the window has a gap larger than a - (E - w + 1): a sum over w days of these counters.
-- activity_weekly: per sign-up week (Monday, UTC) and activity week, the accounts active that week.
-- Both are spread over 16 shards (by user id) so that concurrent sign-ins do not queue on one counter row.
CREATE TABLE "activity_daily" (
	"day" date NOT NULL,
	"gap" smallint NOT NULL,
	"shard" smallint NOT NULL,
	"users" integer NOT NULL,
	CONSTRAINT "activity_daily_pkey" PRIMARY KEY ("day", "gap", "shard")
);
--> statement-breakpoint
CREATE TABLE "activity_weekly" (
	"cohort" date NOT NULL,
	"week" date NOT NULL,
	"shard" smallint NOT NULL,
	"users" integer NOT NULL,
	CONSTRAINT "activity_weekly_pkey" PRIMARY KEY ("cohort", "week", "shard")
);
--> statement-breakpoint
CREATE FUNCTION "activity_gap"(day date, prev_day date) RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN prev_day IS NULL THEN 0 ELSE least(31, day - prev_day) END::smallint
$$;
--> statement-breakpoint
CREATE FUNCTION "activity_new_week"(day date, prev_day date) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT prev_day IS NULL OR date_trunc('week', prev_day) < date_trunc('week', day)
$$;
--> statement-breakpoint
-- Recompute prev_day and the rollups from user_activity: the backfill below, the demo seeder, and anyone who edits
-- user_activity by hand. The Worker never calls them.
CREATE FUNCTION "rebuild_activity_prev_days"() RETURNS void LANGUAGE sql AS $$
	UPDATE user_activity a SET prev_day = p.prev_day
	FROM (SELECT day, user_id, lag(day) OVER (PARTITION BY user_id ORDER BY day) AS prev_day FROM user_activity) p
	WHERE a.day = p.day AND a.user_id = p.user_id AND a.prev_day IS DISTINCT FROM p.prev_day;
$$;
--> statement-breakpoint
CREATE FUNCTION "rebuild_activity_rollups"() RETURNS void LANGUAGE sql AS $$
	DELETE FROM activity_daily;
	INSERT INTO activity_daily (day, gap, shard, users)
	SELECT day, activity_gap(day, prev_day), user_id % 16, count(*) FROM user_activity GROUP BY 1, 2, 3;
	DELETE FROM activity_weekly;
	INSERT INTO activity_weekly (cohort, week, shard, users)
	SELECT date_trunc('week', u.created_at AT TIME ZONE 'UTC')::date, date_trunc('week', a.day)::date, a.user_id % 16, count(*)
	FROM user_activity a JOIN users u ON u.id = a.user_id
	WHERE activity_new_week(a.day, a.prev_day) GROUP BY 1, 2, 3;
$$;
--> statement-breakpoint
-- A deleted account's activity goes with it (the cascade): take it out of the rollups first, while the row is there.
CREATE FUNCTION "activity_forget_user"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE activity_daily d SET users = d.users - r.n
	FROM (SELECT day, activity_gap(day, prev_day) AS gap, count(*) AS n FROM user_activity WHERE user_id = OLD.id GROUP BY 1, 2) r
	WHERE d.day = r.day AND d.gap = r.gap AND d.shard = OLD.id % 16;
	UPDATE activity_weekly w SET users = w.users - r.n
	FROM (SELECT date_trunc('week', day)::date AS week, count(*) AS n FROM user_activity
	      WHERE user_id = OLD.id AND activity_new_week(day, prev_day) GROUP BY 1) r
	WHERE w.cohort = date_trunc('week', OLD.created_at AT TIME ZONE 'UTC')::date AND w.week = r.week AND w.shard = OLD.id % 16;
	RETURN OLD;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "users_forget_activity" BEFORE DELETE ON "users" FOR EACH ROW EXECUTE FUNCTION activity_forget_user();
--> statement-breakpoint
-- Backfill: every successful sign-in in the audit trail is activity (refreshes were never recorded before).
INSERT INTO "user_activity" ("day", "user_id", "quarters")
SELECT (e.at AT TIME ZONE 'UTC')::date, e.actor_id, bit_or(activity_quarter(e.at))
FROM audit_events e JOIN users u ON u.id = e.actor_id
WHERE e.action = 'auth.login'
GROUP BY 1, 2;
--> statement-breakpoint
SELECT rebuild_activity_prev_days(), rebuild_activity_rollups();
--> statement-breakpoint
INSERT INTO "user_last_activity" ("user_id", "at")
SELECT e.actor_id, max(e.at) FROM audit_events e JOIN users u ON u.id = e.actor_id WHERE e.action = 'auth.login' GROUP BY 1;
--> statement-breakpoint
-- GET /v1/roles user counts: counting users_roles per role read every assignment (~145 ms at 1M users). Counters
-- maintained by statement-level triggers make it a read of a few rows. Each role's count is spread over 16 shards
-- (by user id), so concurrent sign-ups, which all add a `viewer` assignment, do not queue on one row; each statement
-- updates its shards in (role, shard) order, so two statements cannot deadlock on them.
CREATE TABLE "role_user_counts" (
	"role_id" integer NOT NULL,
	"shard" smallint NOT NULL,
	"users" integer NOT NULL,
	CONSTRAINT "role_user_counts_pkey" PRIMARY KEY ("role_id", "shard")
);
--> statement-breakpoint
ALTER TABLE "role_user_counts" ADD CONSTRAINT "role_user_counts_role_id_roles_id_fk" FOREIGN KEY ("role_id") REFERENCES "public"."roles"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE FUNCTION "role_user_counts_added"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO role_user_counts AS c (role_id, shard, users)
	SELECT role_id, user_id % 16, count(*) FROM added_rows GROUP BY 1, 2 ORDER BY 1, 2
	ON CONFLICT (role_id, shard) DO UPDATE SET users = c.users + excluded.users;
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE FUNCTION "role_user_counts_removed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	-- A role being deleted takes its counters with it (cascade); the join skips them.
	UPDATE role_user_counts c SET users = c.users - r.n
	FROM (SELECT role_id, user_id % 16 AS shard, count(*) AS n FROM removed_rows GROUP BY 1, 2 ORDER BY 1, 2) r
	WHERE c.role_id = r.role_id AND c.shard = r.shard;
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "users_roles_count_added" AFTER INSERT ON "users_roles" REFERENCING NEW TABLE AS added_rows
	FOR EACH STATEMENT EXECUTE FUNCTION role_user_counts_added();
--> statement-breakpoint
CREATE TRIGGER "users_roles_count_removed" AFTER DELETE ON "users_roles" REFERENCING OLD TABLE AS removed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION role_user_counts_removed();
--> statement-breakpoint
-- Assignments are never updated in place (the API inserts and deletes them); refuse it so the counters stay true.
CREATE FUNCTION "users_roles_no_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.user_id <> OLD.user_id OR NEW.role_id <> OLD.role_id THEN
		RAISE EXCEPTION 'users_roles rows are inserted and deleted, never re-pointed';
	END IF;
	RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "users_roles_no_repoint" BEFORE UPDATE ON "users_roles" FOR EACH ROW EXECUTE FUNCTION users_roles_no_update();
--> statement-breakpoint
INSERT INTO "role_user_counts" ("role_id", "shard", "users")
SELECT role_id, user_id % 16, count(*) FROM users_roles GROUP BY 1, 2;
--> statement-breakpoint
-- `q` of one or two characters: trigrams cannot serve them (a rare pair like `zz` scanned every user, 0.7-1.7 s at
-- 1M). This index holds every 1- and 2-character substring of the lower-cased name and email; the route adds
-- `search_grams(...) @> array[lower(q)]` next to its unchanged ILIKE, so the index only narrows the candidates and the
-- ILIKE still decides what matches.
CREATE FUNCTION "search_grams"(name text, email text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT array(SELECT DISTINCT g FROM (
		SELECT substr(t, i, n) AS g
		FROM unnest(array[lower(name), lower(email)]) t, generate_series(1, 2) n, generate_series(1, length(t)) i
		WHERE i + n - 1 <= length(t)) s)
$$;
--> statement-breakpoint
CREATE INDEX "users_search_grams_idx" ON "users" USING gin (search_grams("name", "email"));
--> statement-breakpoint
-- GET /v1/audit/export reads the trail in time order from `from` on, a page at a time: keyed by (at, id).
CREATE INDEX "audit_events_at_id_idx" ON "audit_events" USING btree ("at", "id");
