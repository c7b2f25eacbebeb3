-- Permissions (contract §8): a fixed catalog, granted by roles; every guarded statement checks them at request time
-- (src/auth/authorize.ts).
CREATE TABLE "permissions" (
	"name" text PRIMARY KEY NOT NULL,
	"description" text NOT NULL
);
--> statement-breakpoint
INSERT INTO "permissions" ("name", "description") VALUES
	('audit:read', 'Read the audit log and export it'),
	('roles:read', 'List and read roles and their holders'),
	('roles:write', 'Create, update and delete roles; assign and unassign them'),
	('stats:read', 'Read the dashboard figures and analytics'),
	('users:read', 'List and read users'),
	('users:write', 'Create, update, disable and delete users, revoke their sessions, reset their second factor, resend invitations, unlock');
--> statement-breakpoint
-- The primary key (role_id, permission) is the index the request-time check walks: for each role of the caller
-- (users_roles primary key, user_id first), one probe for the permission.
CREATE TABLE "role_permissions" (
	"role_id" integer NOT NULL,
	"permission" text NOT NULL,
	CONSTRAINT "role_permissions_role_id_permission_pk" PRIMARY KEY("role_id","permission")
);
--> statement-breakpoint
ALTER TABLE "role_permissions" ADD CONSTRAINT "role_permissions_role_id_roles_id_fk" FOREIGN KEY ("role_id") REFERENCES "public"."roles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_permissions" ADD CONSTRAINT "role_permissions_permission_permissions_name_fk" FOREIGN KEY ("permission") REFERENCES "public"."permissions"("name") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Built-ins: admin everything, analyst reads stats, users and roles, viewer nothing.
INSERT INTO "role_permissions" ("role_id", "permission")
	SELECT r.id, p.name FROM "roles" r, "permissions" p
	WHERE r.name = 'admin' OR (r.name = 'analyst' AND p.name IN ('roles:read', 'stats:read', 'users:read'))
ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- How the session was authenticated (RFC 8176 values), so a refreshed access token keeps its `amr`.
ALTER TABLE "sessions" ADD COLUMN "amr" text[] DEFAULT '{pwd}' NOT NULL;
--> statement-breakpoint
-- A refusal of the request-time check: raised inside the guarded statement, so the statement (and any change in it)
-- is rolled back as a whole. The API answers P0A11 with 401, P0A13/P0A14/P0A15 with 403. VOLATILE: never folded
-- away at plan time, only called on the branch that refuses.
CREATE FUNCTION "authz_refuse"(kind text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	IF kind = 'unauthenticated' THEN
		RAISE EXCEPTION 'authz: session not live' USING ERRCODE = 'P0A11';
	ELSIF kind = 'mfa' THEN
		RAISE EXCEPTION 'authz: second factor required' USING ERRCODE = 'P0A14';
	ELSIF kind = 'escalation' THEN
		RAISE EXCEPTION 'authz: escalation' USING ERRCODE = 'P0A15';
	END IF;
	RAISE EXCEPTION 'authz: permission missing' USING ERRCODE = 'P0A13';
END;
$$;
--> statement-breakpoint
-- replace_user_roles() of 0001 with the no-escalation rule of §8, judged after the user row is locked (so against
-- the roles the user holds at that moment): every role it adds must carry only permissions in `granter_permissions`,
-- and adding or removing `admin` needs `granter_is_admin`. A refusal raises P0A15 and changes nothing.
CREATE FUNCTION "replace_user_roles_as"(target integer, wanted text[], granter_permissions text[], granter_is_admin boolean)
RETURNS TABLE (role_name text, added boolean) LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM users WHERE id = target FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		RETURN;
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
