-- Passkeys (contract §17): WebAuthn credentials per account, and the single-use challenges of the two ceremonies.

-- One row per registered credential. `credential_id` is the authenticator's raw credential id: unique across every
-- account, so a credential registered once cannot be registered again (by the same or another account).
-- `public_key` is the COSE key as the attestation gave it; `counter` the highest signature counter seen (0 for
-- authenticators that keep none, as synced passkeys do); `transports` the hints the browser reported.
CREATE TABLE "passkeys" (
	"id" serial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL REFERENCES "users"("id") ON DELETE CASCADE,
	"credential_id" bytea NOT NULL,
	"public_key" bytea NOT NULL,
	"counter" bigint DEFAULT 0 NOT NULL,
	"transports" text[] DEFAULT '{}' NOT NULL,
	"name" text NOT NULL,
	"device_type" text NOT NULL,
	"backed_up" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "passkeys_credential_id_key" UNIQUE ("credential_id"),
	CONSTRAINT "passkeys_counter_range" CHECK ("counter" >= 0 AND "counter" <= 4294967295)
);
--> statement-breakpoint
CREATE INDEX "passkeys_user_id_idx" ON "passkeys" ("user_id");
--> statement-breakpoint
-- A challenge handed out by POST /v1/me/passkeys/options (`purpose` registration, bound to its account) or POST
-- /v1/auth/passkey/options (authentication, no account: discoverable credentials). Stored only as SHA-256 of its
-- 256 random bits; the ceremony's answer deletes it (single use), and it is refused after `expires_at` (5 minutes).
CREATE TABLE "passkey_challenges" (
	"challenge_hash" bytea PRIMARY KEY NOT NULL,
	"purpose" text NOT NULL,
	"user_id" integer REFERENCES "users"("id") ON DELETE CASCADE,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "passkey_challenges_purpose" CHECK (("purpose" = 'registration' AND "user_id" IS NOT NULL) OR ("purpose" = 'authentication' AND "user_id" IS NULL))
);
--> statement-breakpoint
CREATE INDEX "passkey_challenges_expires_at_idx" ON "passkey_challenges" ("expires_at");
--> statement-breakpoint
-- An account's own challenges (its expired ones are cleared when it asks for new options; its deletion cascades).
CREATE INDEX "passkey_challenges_user_id_idx" ON "passkey_challenges" ("user_id") WHERE "user_id" IS NOT NULL;
