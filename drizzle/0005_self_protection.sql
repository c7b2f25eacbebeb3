-- The database protects two invariants itself, whatever path a change takes (the API, a script, a psql session):
--
-- 1. The built-in roles (admin, analyst, viewer) are never deleted or renamed: the API's checks and the last-admin
--    guard (0001) name them. A DELETE, an UPDATE of `name` (either way: renaming a built-in role away, or another role
--    onto a built-in name after one was lost) and a TRUNCATE of `roles` raise SQLSTATE P0A02 (409 `built-in-role`).
--    Their descriptions, and every other role, stay editable.
-- 2. The audit trail is append-only. An UPDATE, DELETE or TRUNCATE of `audit_events` raises SQLSTATE P0A03, unless the
--    transaction-local setting `dashboard.audit_purge` is `on`. Only `purge_audit_events()` (the retention purge)
--    sets it, for the duration of its own DELETE; no statement of the Worker sets it (a test checks the source).
--    Operator tools that must remove rows (re-seeding demo data) set it explicitly with `SET LOCAL`.
--
-- These are guards against mistakes and against a compromised application statement, not against the database's
-- owner or a superuser, who can drop a trigger; keep the Worker's role separate from the owner where the platform
-- allows it (purge_audit_events is SECURITY DEFINER so the purge keeps working for a role without DELETE).
CREATE FUNCTION "built_in_roles_guard"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		RAISE EXCEPTION 'the built-in roles cannot be removed (TRUNCATE roles)'
			USING ERRCODE = 'P0A02';
	END IF;
	IF OLD.name IN ('admin', 'analyst', 'viewer') AND (TG_OP = 'DELETE' OR NEW.name IS DISTINCT FROM OLD.name) THEN
		RAISE EXCEPTION 'the built-in role % cannot be deleted or renamed', OLD.name
			USING ERRCODE = 'P0A02';
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "roles_built_in_guard" BEFORE DELETE OR UPDATE OF "name" ON "roles"
	FOR EACH ROW EXECUTE FUNCTION built_in_roles_guard();
--> statement-breakpoint
CREATE TRIGGER "roles_built_in_truncate_guard" BEFORE TRUNCATE ON "roles"
	FOR EACH STATEMENT EXECUTE FUNCTION built_in_roles_guard();
--> statement-breakpoint
CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('DELETE', 'TRUNCATE') AND current_setting('dashboard.audit_purge', true) = 'on' THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
		USING ERRCODE = 'P0A03', HINT = 'rows leave the audit trail only through purge_audit_events()';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_events_append_only" BEFORE UPDATE OR DELETE ON "audit_events"
	FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
--> statement-breakpoint
CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events"
	FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
--> statement-breakpoint
-- The retention purge: deletes up to `max_rows` of the oldest rows older than `before` and returns how many it
-- deleted (call again while it returns `max_rows`; bounded batches keep each statement short). The switch is set
-- only around its own DELETE and cleared before it returns, so nothing later in the transaction inherits it.
CREATE FUNCTION "purge_audit_events"(before timestamptz, max_rows integer DEFAULT 10000) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	deleted bigint;
BEGIN
	IF before IS NULL OR max_rows IS NULL OR max_rows < 1 THEN
		RAISE EXCEPTION 'purge_audit_events needs a cut-off and a positive batch size' USING ERRCODE = '22023';
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
