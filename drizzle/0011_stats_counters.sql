-- Counters for GET /v1/stats/overview (issue 14): at 1M users / 10M events its range counts over the indexes took
-- 445 ms (days=30) and 1.1 s (days=365), in proportion to the rows counted. Here the same figures are kept by
-- statement-level triggers, so the overview reads a bounded number of counter rows whatever the data's size.
--
-- stats_quarterly / stats_hourly: sign-ups (kind 0: users by created_at), successful sign-ins (1: audit
-- `auth.login`) and failed ones (2: `auth.login_failed`) per quarter-hour and per hour (UTC, date_bin from
-- 2000-01-01Z, so they do not depend on the session's TimeZone). Every offset any IANA zone uses today is a multiple
-- of 15 minutes, so a calendar day in any zone is whole hours plus at most three quarter-hours at each end: the
-- overview sums hours in the middle and quarter-hours at the edges, exact on daylight-saving days too.
-- user_totals: accounts and disabled accounts (count(*) of users read every user). quarter_histograms, kind 0: the
-- accounts whose latest activity (user_last_activity.at) falls in each quarter-hour (the rolling 24 h / 7 d / 30 d
-- windows start on a quarter-hour, so they are sums of these); kind 1: the sessions not revoked, by the quarter-hour
-- they expire in (sessions.active is the later quarter-hours' sum plus an exact count of the current one's).
--
-- Each counter is spread over 4 shards (the row's id % 4) so concurrent sign-ins do not all queue on one row; each
-- statement updates its rows in key order, so two statements cannot deadlock on them. rebuild_stats_counters()
-- recomputes everything (the backfill below, the demo seeder after TRUNCATE or bulk loads); the Worker never calls it.
CREATE TABLE "stats_quarterly" (
	"kind" smallint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"shard" smallint NOT NULL,
	"n" integer NOT NULL,
	CONSTRAINT "stats_quarterly_pkey" PRIMARY KEY ("kind", "at", "shard") INCLUDE ("n")
);
--> statement-breakpoint
CREATE TABLE "stats_hourly" (
	"kind" smallint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"shard" smallint NOT NULL,
	"n" integer NOT NULL,
	CONSTRAINT "stats_hourly_pkey" PRIMARY KEY ("kind", "at", "shard") INCLUDE ("n")
);
--> statement-breakpoint
CREATE TABLE "user_totals" (
	"shard" smallint PRIMARY KEY NOT NULL,
	"users" integer NOT NULL,
	"disabled" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quarter_histograms" (
	"kind" smallint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"shard" smallint NOT NULL,
	"n" integer NOT NULL,
	CONSTRAINT "quarter_histograms_pkey" PRIMARY KEY ("kind", "at", "shard") INCLUDE ("n")
);
--> statement-breakpoint
-- Adds n[i] to the counters of (kind[i], quarter-hour of at[i], shard[i]), quarter-hours first then hours, each in
-- key order. The triggers pass their rows grouped, so a bulk statement costs one upsert per counter row.
CREATE FUNCTION "stats_bump"(kinds smallint[], ats timestamptz[], shards smallint[], ns bigint[]) RETURNS void LANGUAGE sql AS $$
	INSERT INTO stats_quarterly AS c (kind, at, shard, n)
	SELECT k, date_bin('15 minutes', a, timestamptz '2000-01-01Z'), s, sum(n)
	FROM unnest(kinds, ats, shards, ns) x(k, a, s, n) GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3
	ON CONFLICT (kind, at, shard) DO UPDATE SET n = c.n + excluded.n;
	INSERT INTO stats_hourly AS c (kind, at, shard, n)
	SELECT k, date_bin('1 hour', a, timestamptz '2000-01-01Z'), s, sum(n)
	FROM unnest(kinds, ats, shards, ns) x(k, a, s, n) GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3
	ON CONFLICT (kind, at, shard) DO UPDATE SET n = c.n + excluded.n;
$$;
--> statement-breakpoint
-- The statement-level triggers below see the rows they count as `changed_rows` (the new ones on INSERT, the old ones
-- on DELETE: one function serves both, with the sign TG_OP gives); UPDATE triggers see `old_rows` and `new_rows`.
CREATE FUNCTION "audit_stats_counted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM stats_bump(array_agg(k), array_agg(q), array_agg(s), array_agg(n * CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END)) FROM (
		SELECT CASE action WHEN 'auth.login' THEN 1 ELSE 2 END::smallint AS k,
		       date_bin('15 minutes', at, timestamptz '2000-01-01Z') AS q, (id % 4)::smallint AS s, count(*) AS n
		FROM changed_rows WHERE action IN ('auth.login', 'auth.login_failed') GROUP BY 1, 2, 3) x HAVING count(*) > 0;
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_events_stats_added" AFTER INSERT ON "audit_events" REFERENCING NEW TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION audit_stats_counted();
--> statement-breakpoint
CREATE TRIGGER "audit_events_stats_removed" AFTER DELETE ON "audit_events" REFERENCING OLD TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION audit_stats_counted();
--> statement-breakpoint
CREATE FUNCTION "users_stats_counted"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	sign integer := CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END;
BEGIN
	PERFORM stats_bump(array_agg(0::smallint), array_agg(q), array_agg(s), array_agg(n * sign)) FROM (
		SELECT date_bin('15 minutes', created_at, timestamptz '2000-01-01Z') AS q, (id % 4)::smallint AS s, count(*) AS n
		FROM changed_rows GROUP BY 1, 2) x HAVING count(*) > 0;
	INSERT INTO user_totals AS t (shard, users, disabled)
	SELECT id % 4, sign * count(*), sign * count(*) FILTER (WHERE disabled) FROM changed_rows GROUP BY 1 ORDER BY 1
	ON CONFLICT (shard) DO UPDATE SET users = t.users + excluded.users, disabled = t.disabled + excluded.disabled;
	RETURN NULL;
END;
$$;
--> statement-breakpoint
-- The API never moves created_at; operators and tests do. Row-level, and only when it really changes.
CREATE FUNCTION "users_stats_moved"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM stats_bump(array[0, 0]::smallint[], array[OLD.created_at, NEW.created_at], array[OLD.id % 4, NEW.id % 4]::smallint[], array[-1, 1]::bigint[]);
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE FUNCTION "users_stats_disabled"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE user_totals SET disabled = disabled + CASE WHEN NEW.disabled THEN 1 ELSE -1 END WHERE shard = NEW.id % 4;
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "users_stats_added" AFTER INSERT ON "users" REFERENCING NEW TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION users_stats_counted();
--> statement-breakpoint
CREATE TRIGGER "users_stats_removed" AFTER DELETE ON "users" REFERENCING OLD TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION users_stats_counted();
--> statement-breakpoint
CREATE TRIGGER "users_stats_moved" AFTER UPDATE OF "created_at" ON "users"
	FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at) EXECUTE FUNCTION users_stats_moved();
--> statement-breakpoint
CREATE TRIGGER "users_stats_disabled" AFTER UPDATE OF "disabled" ON "users"
	FOR EACH ROW WHEN (OLD.disabled IS DISTINCT FROM NEW.disabled) EXECUTE FUNCTION users_stats_disabled();
--> statement-breakpoint
-- Adds n[i] to histogram `kind`'s counter of (quarter-hour of at[i], shard[i]), in key order.
CREATE FUNCTION "histogram_bump"(kind smallint, ats timestamptz[], shards smallint[], ns bigint[]) RETURNS void LANGUAGE sql AS $$
	INSERT INTO quarter_histograms AS c (kind, at, shard, n)
	SELECT kind, date_bin('15 minutes', a, timestamptz '2000-01-01Z'), s, sum(n)
	FROM unnest(ats, shards, ns) x(a, s, n) GROUP BY 2, 3 HAVING sum(n) <> 0 ORDER BY 2, 3
	ON CONFLICT (kind, at, shard) DO UPDATE SET n = c.n + excluded.n;
$$;
--> statement-breakpoint
-- An UPDATE counts as the old row leaving and the new one arriving, summed per bucket by histogram_bump, so a row
-- whose bucket (or, for sessions, liveness) did not change writes nothing: a refresh updates its session but neither
-- revokes it nor moves its expiry.
CREATE FUNCTION "last_activity_counted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		PERFORM histogram_bump(0::smallint, array_agg(at), array_agg(s), array_agg(n)) FROM (
			SELECT at, (user_id % 4)::smallint AS s, -1::bigint AS n FROM old_rows
			UNION ALL
			SELECT at, (user_id % 4)::smallint, 1 FROM new_rows) x HAVING count(*) > 0;
	ELSE
		PERFORM histogram_bump(0::smallint, array_agg(at), array_agg((user_id % 4)::smallint),
			array_agg(CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END::bigint)) FROM changed_rows HAVING count(*) > 0;
	END IF;
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "last_activity_added" AFTER INSERT ON "user_last_activity" REFERENCING NEW TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION last_activity_counted();
--> statement-breakpoint
CREATE TRIGGER "last_activity_removed" AFTER DELETE ON "user_last_activity" REFERENCING OLD TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION last_activity_counted();
--> statement-breakpoint
CREATE TRIGGER "last_activity_moved" AFTER UPDATE ON "user_last_activity" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION last_activity_counted();
--> statement-breakpoint
CREATE FUNCTION "live_sessions_counted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		PERFORM histogram_bump(1::smallint, array_agg(at), array_agg(s), array_agg(n)) FROM (
			SELECT expires_at AS at, (user_id % 4)::smallint AS s, -1::bigint AS n FROM old_rows WHERE revoked_at IS NULL
			UNION ALL
			SELECT expires_at, (user_id % 4)::smallint, 1 FROM new_rows WHERE revoked_at IS NULL) x HAVING count(*) > 0;
	ELSE
		PERFORM histogram_bump(1::smallint, array_agg(expires_at), array_agg((user_id % 4)::smallint),
			array_agg(CASE TG_OP WHEN 'DELETE' THEN -1 ELSE 1 END::bigint)) FROM changed_rows WHERE revoked_at IS NULL HAVING count(*) > 0;
	END IF;
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "sessions_live_added" AFTER INSERT ON "sessions" REFERENCING NEW TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION live_sessions_counted();
--> statement-breakpoint
CREATE TRIGGER "sessions_live_removed" AFTER DELETE ON "sessions" REFERENCING OLD TABLE AS changed_rows
	FOR EACH STATEMENT EXECUTE FUNCTION live_sessions_counted();
--> statement-breakpoint
CREATE TRIGGER "sessions_live_changed" AFTER UPDATE ON "sessions" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION live_sessions_counted();
--> statement-breakpoint
CREATE FUNCTION "rebuild_stats_counters"() RETURNS void LANGUAGE sql AS $$
	DELETE FROM stats_quarterly;
	DELETE FROM stats_hourly;
	DELETE FROM user_totals;
	DELETE FROM quarter_histograms;
	INSERT INTO stats_quarterly (kind, at, shard, n)
	SELECT 0, date_bin('15 minutes', created_at, timestamptz '2000-01-01Z'), id % 4, count(*) FROM users GROUP BY 1, 2, 3
	UNION ALL
	SELECT CASE action WHEN 'auth.login' THEN 1 ELSE 2 END, date_bin('15 minutes', at, timestamptz '2000-01-01Z'), id % 4, count(*)
	FROM audit_events WHERE action IN ('auth.login', 'auth.login_failed') GROUP BY 1, 2, 3;
	INSERT INTO stats_hourly (kind, at, shard, n)
	SELECT kind, date_bin('1 hour', at, timestamptz '2000-01-01Z'), shard, sum(n) FROM stats_quarterly GROUP BY 1, 2, 3;
	INSERT INTO user_totals (shard, users, disabled) SELECT id % 4, count(*), count(*) FILTER (WHERE disabled) FROM users GROUP BY 1;
	INSERT INTO quarter_histograms (kind, at, shard, n)
	SELECT 0, date_bin('15 minutes', at, timestamptz '2000-01-01Z'), user_id % 4, count(*) FROM user_last_activity GROUP BY 1, 2, 3
	UNION ALL
	SELECT 1, date_bin('15 minutes', expires_at, timestamptz '2000-01-01Z'), user_id % 4, count(*) FROM sessions
	WHERE revoked_at IS NULL GROUP BY 1, 2, 3;
$$;
--> statement-breakpoint
SELECT rebuild_stats_counters();
--> statement-breakpoint
-- sessions.active: the exact count of the live sessions expiring in the current quarter-hour, a short index range.
CREATE INDEX "sessions_live_expires_at_idx" ON "sessions" ("expires_at") WHERE "revoked_at" IS NULL;
