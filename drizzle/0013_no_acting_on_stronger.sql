-- Contract §8 v3, "no acting on someone stronger": a change to another account needs the caller to hold every
-- permission that account holds now (and `admin` when it holds `admin`); deleting a role or changing its
-- permissions needs the caller to hold every permission it carries before and after. The request-time check
-- (src/auth/authorize.ts, Guard.mayActOn / Guard.mayRedefine) calls the functions below inside the route's own
-- statement, so a refusal (SQLSTATE P0A16, answered 403) rolls the whole statement back.
--
-- Why functions: the decision must rest on the target's roles as they are when the change commits. Inside one
-- statement a row lock that waited for a concurrent transaction does not make the rest of the statement see what
-- that transaction committed (the statement keeps its snapshot). In a VOLATILE plpgsql function each statement
-- takes a fresh snapshot, so reading after the lock sees the committed state, and the lock keeps it so until the
-- caller's statement commits:
--
-- * the target's `users` row FOR UPDATE: conflicts with the FOR NO KEY UPDATE that replace_user_roles() and the
--   single-role routes take and with the FOR KEY SHARE that any INSERT into users_roles takes (its foreign key), so
--   no role can be given to or taken from the target, by any path, until the change has committed;
-- * the target's users_roles rows FOR SHARE: a DELETE of one of them waits likewise (and is then seen as gone);
-- * the target's custom roles FOR UPDATE: a change of their grants (PATCH /v1/roles/:role updates the row; a direct
--   INSERT into role_permissions takes FOR KEY SHARE on it) or their deletion waits likewise. The built-ins are not
--   locked: their grants are fixed (§8), and locking `admin` would queue behind every last-admin check (0001).
--
-- Order of locks: the caller's session and grants (the guard's CTEs), then the target user, its assignments, then
-- its custom roles; the role-assignment paths take the user before the `admin` role, so they do not deadlock with this.
CREATE FUNCTION "authz_may_act_on"(target integer, actor_permissions text[], actor_is_admin boolean) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM 1 FROM users WHERE id = target FOR UPDATE;
	IF NOT FOUND THEN
		RETURN true; -- no such user: the route answers 404
	END IF;
	PERFORM 1 FROM users_roles WHERE user_id = target ORDER BY role_id FOR SHARE;
	PERFORM 1 FROM roles r
		WHERE r.id IN (SELECT ur.role_id FROM users_roles ur WHERE ur.user_id = target)
			AND r.name NOT IN ('admin', 'analyst', 'viewer')
		ORDER BY r.id
		FOR UPDATE;
	IF NOT actor_is_admin AND EXISTS (
		SELECT 1 FROM users_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = target AND r.name = 'admin'
	) THEN
		RAISE EXCEPTION 'authz: the target holds admin' USING ERRCODE = 'P0A16';
	END IF;
	IF EXISTS (
		SELECT 1 FROM users_roles ur JOIN role_permissions rp ON rp.role_id = ur.role_id
		WHERE ur.user_id = target AND rp.permission <> ALL (actor_permissions)
	) THEN
		RAISE EXCEPTION 'authz: the target holds permissions the caller does not' USING ERRCODE = 'P0A16';
	END IF;
	RETURN true;
END;
$$;
--> statement-breakpoint
-- A role's grants as they are now, locked until the caller's statement commits (FOR UPDATE: also against a direct
-- INSERT into role_permissions, whose foreign key takes FOR KEY SHARE on the role): every one must be the caller's.
CREATE FUNCTION "authz_may_redefine"(role integer, actor_permissions text[]) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM 1 FROM roles WHERE id = role FOR UPDATE;
	IF NOT FOUND THEN
		RETURN true; -- no such role: the route answers 404
	END IF;
	IF EXISTS (SELECT 1 FROM role_permissions rp WHERE rp.role_id = role AND rp.permission <> ALL (actor_permissions)) THEN
		RAISE EXCEPTION 'authz: the role carries permissions the caller does not' USING ERRCODE = 'P0A16';
	END IF;
	RETURN true;
END;
$$;
--> statement-breakpoint
-- replace_user_roles_as() of 0004 plus the rule above: a replacement that takes any role away from the target is
-- "unassigning a role", judged after the user row is locked. The lock is FOR UPDATE from the start (0004 took FOR
-- NO KEY UPDATE), the one authz_may_act_on() takes, so it is never upgraded while another transaction waits.
CREATE OR REPLACE FUNCTION "replace_user_roles_as"(target integer, wanted text[], granter_permissions text[], granter_is_admin boolean)
RETURNS TABLE (role_name text, added boolean) LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM users WHERE id = target FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	IF EXISTS (
		SELECT 1 FROM users_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = target AND r.name <> ALL (wanted)
	) THEN
		PERFORM authz_may_act_on(target, granter_permissions, granter_is_admin);
	END IF;
	IF NOT granter_is_admin AND EXISTS (
		SELECT 1 FROM roles r
		WHERE r.name = 'admin'
			AND (r.name = ANY (wanted)) <> EXISTS (SELECT 1 FROM users_roles ur WHERE ur.user_id = target AND ur.role_id = r.id)
	) THEN
		PERFORM authz_refuse('escalation');
	END IF;
	IF EXISTS (
		SELECT 1 FROM roles r JOIN role_permissions rp ON rp.role_id = r.id
		WHERE r.name = ANY (wanted) AND rp.permission <> ALL (granter_permissions)
			AND NOT EXISTS (SELECT 1 FROM users_roles ur WHERE ur.user_id = target AND ur.role_id = r.id)
	) THEN
		PERFORM authz_refuse('escalation');
	END IF;
	RETURN QUERY SELECT * FROM replace_user_roles(target, wanted);
END;
$$;
