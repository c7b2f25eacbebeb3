-- Last-admin guard (contract §5): no change may leave zero enabled users holding `admin`.
--
-- Enforced by triggers rather than by the statements that make the changes, so that every path is covered (the API,
-- scripts, a psql session) and every route stays one statement. A snapshot check inside the changing statement is not
-- race-safe under READ COMMITTED: two admins removing each other would each still see the other. So a change that
-- removes an enabled admin first locks the `admin` row of `roles` (FOR NO KEY UPDATE: serialises such changes with
-- each other, but not with the FOR KEY SHARE locks that inserting into users_roles takes), and only then checks. Each
-- statement in a plpgsql function takes a fresh snapshot, so the check after the lock wait sees what the transaction
-- that held the lock committed. A violation raises SQLSTATE P0A01, which the API answers with 409.
--
-- Only a change that removes an enabled admin is refused; a database that already has no enabled admin (a fresh
-- one) may still change anything else.
CREATE FUNCTION "last_admin_check"(removed_user integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	admin_role integer;
BEGIN
	SELECT id INTO admin_role FROM roles WHERE name = 'admin' FOR NO KEY UPDATE;
	IF admin_role IS NULL THEN
		RETURN;
	END IF;
	-- After the lock: did this change remove an enabled admin (the user is still enabled and no longer an admin,
	-- or is now disabled but still holds admin)? Callers pass a user only when that may be the case.
	IF EXISTS (
		SELECT 1 FROM users_roles ur JOIN users u ON u.id = ur.user_id WHERE ur.role_id = admin_role AND NOT u.disabled
	) THEN
		RETURN;
	END IF;
	RAISE EXCEPTION 'the last enabled admin cannot be removed (user %)', removed_user
		USING ERRCODE = 'P0A01', HINT = 'grant admin to another enabled user first';
END;
$$;
--> statement-breakpoint
-- A removed (or moved) admin assignment of a user who is still enabled.
CREATE FUNCTION "last_admin_on_unassign"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.role_id = OLD.role_id AND NEW.user_id = OLD.user_id THEN
		RETURN NULL;
	END IF;
	IF OLD.role_id = (SELECT id FROM roles WHERE name = 'admin')
		AND EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id AND NOT disabled) THEN
		PERFORM last_admin_check(OLD.user_id);
	END IF;
	RETURN NULL;
END;
$$;
--> statement-breakpoint
-- An admin who becomes disabled.
CREATE FUNCTION "last_admin_on_disable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM users_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = NEW.id AND r.name = 'admin') THEN
		PERFORM last_admin_check(NEW.id);
	END IF;
	RETURN NULL;
END;
$$;
--> statement-breakpoint
-- A deleted user's assignments are removed before the user row (not by the foreign key's cascade, which would run
-- after the row is gone, when nobody can tell any more whether it was enabled), so the unassign trigger judges them.
CREATE FUNCTION "last_admin_on_user_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM users_roles WHERE user_id = OLD.id;
	RETURN OLD;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "users_roles_last_admin" AFTER DELETE OR UPDATE ON "users_roles"
	FOR EACH ROW EXECUTE FUNCTION last_admin_on_unassign();
--> statement-breakpoint
CREATE TRIGGER "users_last_admin_disable" AFTER UPDATE OF "disabled" ON "users"
	FOR EACH ROW WHEN (NOT OLD.disabled AND NEW.disabled) EXECUTE FUNCTION last_admin_on_disable();
--> statement-breakpoint
CREATE TRIGGER "users_last_admin_delete" BEFORE DELETE ON "users"
	FOR EACH ROW EXECUTE FUNCTION last_admin_on_user_delete();
--> statement-breakpoint
-- PUT /v1/users/:id/roles in one statement that is also correct under concurrency. A plain DELETE … INSERT in CTEs
-- reads the statement's snapshot, so of two concurrent replaces the later one would not see (and not delete) the
-- roles the earlier one added, leaving a mix of both sets. Here the user row is locked first and the change runs in
-- a statement of its own, whose fresh snapshot sees what any earlier replace committed. Returns the roles added and
-- removed; nothing when the user does not exist. Removing admin this way meets the last-admin guard like any other.
CREATE FUNCTION "replace_user_roles"(target integer, wanted text[]) RETURNS TABLE (role_name text, added boolean)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM users WHERE id = target FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	RETURN QUERY
		WITH removed AS (
			DELETE FROM users_roles ur USING roles r
			WHERE ur.user_id = target AND r.id = ur.role_id AND r.name <> ALL (wanted)
			RETURNING r.name
		), inserted AS (
			INSERT INTO users_roles (user_id, role_id) SELECT target, r.id FROM roles r WHERE r.name = ANY (wanted)
			ON CONFLICT DO NOTHING
			RETURNING role_id
		)
		SELECT removed.name, false FROM removed
		UNION ALL
		SELECT r.name, true FROM inserted i JOIN roles r ON r.id = i.role_id;
END;
$$;
