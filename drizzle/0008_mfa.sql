-- A second factor (contract §10): one TOTP factor per account, its recovery codes, and the sign-in challenges that
-- sit between the password step and the code step. Everything secret is stored sealed or hashed.

-- The TOTP secret, sealed with AES-256-GCM under MFA_ENCRYPTION_KEY (12-byte IV || ciphertext || tag; the account
-- id is the additional data, so a sealed secret cannot be moved to another account). `key_id` names the key that
-- sealed it, so keys can rotate. `enabled_at` is null while an enrolment waits for its first code.
-- `last_step` is the highest RFC 6238 time step accepted: a code of that step or an older one is refused, so each
-- code is accepted at most once (a compare-and-set on this column decides between concurrent uses).
CREATE TABLE "mfa_factors" (
	"user_id" integer PRIMARY KEY NOT NULL REFERENCES "users"("id") ON DELETE CASCADE,
	"secret" bytea NOT NULL,
	"key_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"enabled_at" timestamp with time zone,
	"last_step" bigint
);
--> statement-breakpoint
-- The overview's `mfa.enabled` counts this index.
CREATE INDEX "mfa_factors_enabled_idx" ON "mfa_factors" ("user_id") WHERE "enabled_at" IS NOT NULL;
--> statement-breakpoint
-- Recovery codes, stored only as SHA-256 (each code carries 80 random bits). Removing the factor removes them.
CREATE TABLE "mfa_recovery_codes" (
	"user_id" integer NOT NULL REFERENCES "mfa_factors"("user_id") ON DELETE CASCADE,
	"code_hash" bytea NOT NULL,
	"used_at" timestamp with time zone,
	CONSTRAINT "mfa_recovery_codes_pk" PRIMARY KEY ("user_id", "code_hash")
);
--> statement-breakpoint
-- The `mfaToken` of a sign-in waiting for its second factor, stored only as SHA-256. `email_hash` is the
-- login_throttle key of that sign-in, so wrong codes count towards the same lockout as wrong passwords.
-- Removing the factor ends its open challenges.
CREATE TABLE "mfa_challenges" (
	"token_hash" bytea PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL REFERENCES "mfa_factors"("user_id") ON DELETE CASCADE,
	"email_hash" bytea NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"used_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "mfa_challenges_user_id_idx" ON "mfa_challenges" ("user_id");
--> statement-breakpoint
CREATE INDEX "mfa_challenges_expires_at_idx" ON "mfa_challenges" ("expires_at");
