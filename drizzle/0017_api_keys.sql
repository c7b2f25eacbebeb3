-- Personal API keys (contract §16): programs acting on a person's behalf with a subset of the person's permissions.
-- Only the SHA-256 of a key is stored (the key has 256 random bits: no slow hash is needed to resist guessing).
-- Every request with a key looks it up by key_hash inside the route's own guarded statement (src/auth/authorize.ts):
-- the key live (not revoked, not expired), its owner enabled, the permission granted to the key and held by the owner.
CREATE TABLE "api_keys" (
	"id" serial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL REFERENCES "users"("id") ON DELETE CASCADE,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" bytea NOT NULL UNIQUE,
	"permissions" text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	-- Kept to the minute: the guarded statement writes it only when the stored minute is older than the current one.
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
-- A person's keys, newest first (GET /v1/me/api-keys, GET /v1/users/:id/api-keys); revoked keys are not listed.
CREATE INDEX "api_keys_user_id_created_at_idx" ON "api_keys" ("user_id", "created_at" DESC, "id" DESC) WHERE "revoked_at" IS NULL;
--> statement-breakpoint
-- Refusals that only a key's request can meet, raised inside the guarded statement like authz_refuse() (0004), so
-- nothing the statement would have changed is changed. P0A31: a key changing its own owner's password or email
-- (403); P0A32: the key's per-minute limit is spent (429, DETAIL carries the seconds until the window ends).
CREATE FUNCTION "api_key_refuse"(kind text, retry_after integer DEFAULT NULL) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	IF kind = 'rate' THEN
		RAISE EXCEPTION 'api key: rate limited' USING ERRCODE = 'P0A32', DETAIL = coalesce(retry_after, 60)::text;
	END IF;
	RAISE EXCEPTION 'api key: the owner''s own password or email' USING ERRCODE = 'P0A31';
END;
$$;
