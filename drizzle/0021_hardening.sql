-- Hardening III (issue 20), items 5 and 12.
--
-- Item 5: a stats request in a zone that is not tracked reads the per-user quarter-hour masks (0010), which costs
-- time in proportion to accounts × days. Two guards, both evaluated inside the route's statement:
-- * heavy_query_slot(caller, slots): the caller (a user id; API keys count as their owner) may run at most `slots`
--   heavy analytics statements at once. A slot is a transaction-level advisory lock, so it is taken and given back
--   with the statement's own transaction (no row to clean up after a crash, no round trip) and seen at once by every
--   other connection. All taken: SQLSTATE P0A17, answered 429 with Retry-After.
-- * stats_untracked_span(days, max_days): a span longer than `max_days` in an untracked zone raises P0A18 (422) with
--   the tracked zones in DETAIL, so the answer can name them.
CREATE FUNCTION "heavy_query_slot"(caller text, slots integer) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	FOR s IN 1..slots LOOP
		IF pg_try_advisory_xact_lock(hashtext('heavy-query:' || caller), s) THEN
			RETURN true;
		END IF;
	END LOOP;
	RAISE EXCEPTION 'heavy queries: the caller already runs %', slots USING ERRCODE = 'P0A17';
END;
$$;
--> statement-breakpoint
CREATE FUNCTION "stats_untracked_span"(days integer, max_days integer) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	IF days > max_days THEN
		RAISE EXCEPTION 'stats: more than % days in a zone that is not tracked', max_days USING ERRCODE = 'P0A18',
			DETAIL = coalesce((SELECT string_agg(zone, ', ' ORDER BY zone) FROM activity_zones), '');
	END IF;
	RETURN true;
END;
$$;
--> statement-breakpoint
-- Item 12: the audit log's purge (0005) deleted whatever was older than any cut-off its caller gave, so one
-- compromised Worker statement could empty the log. The minimum age is now enforced here: a cut-off later than 30
-- days ago is refused (22023), whoever calls (AUDIT_RETENTION_DAYS is 0, "forever", or at least 30: src/env.ts).
-- An owner who must delete younger rows does so explicitly with the switch (`SET LOCAL dashboard.audit_purge = on`).
CREATE OR REPLACE FUNCTION "purge_audit_events"(before timestamptz, max_rows integer DEFAULT 10000) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	deleted bigint;
BEGIN
	IF before IS NULL OR max_rows IS NULL OR max_rows < 1 THEN
		RAISE EXCEPTION 'purge_audit_events needs a cut-off and a positive batch size' USING ERRCODE = '22023';
	END IF;
	IF before > now() - interval '30 days' THEN
		RAISE EXCEPTION 'purge_audit_events keeps the last 30 days (cut-off % refused)', before USING ERRCODE = '22023';
	END IF;
	PERFORM set_config('dashboard.audit_purge', 'on', true);
	DELETE FROM audit_events WHERE id IN (
		SELECT id FROM audit_events WHERE at < before ORDER BY at, id LIMIT max_rows
	);
	GET DIAGNOSTICS deleted = ROW_COUNT;
	PERFORM set_config('dashboard.audit_purge', 'off', true);
	RETURN deleted;
END;
$$;
