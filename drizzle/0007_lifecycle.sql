-- Account lifecycle (contract v2 §9): verified emails, invitations (an account without a password), single-use
-- account tokens, and the transactional email outbox.

-- Accounts made before this migration are treated as verified: turning REQUIRE_VERIFIED_EMAIL on must not lock out
-- every existing user. New accounts start unverified (the default is changed right after the column is filled).
ALTER TABLE "users" ADD COLUMN "email_verified" boolean NOT NULL DEFAULT true;--> statement-breakpoint
ALTER TABLE "users" ALTER COLUMN "email_verified" SET DEFAULT false;--> statement-breakpoint
-- An invited account has no password until the invitation is accepted (`invited` in the API is `hashed_password is null`).
ALTER TABLE "users" ALTER COLUMN "hashed_password" DROP NOT NULL;--> statement-breakpoint

-- Links sent by email. Only the SHA-256 of a token is stored; a token works once (`used_at`), for one purpose and
-- one account, until `expires_at`; issuing a new one of the same purpose sets `revoked_at` on the earlier ones.
-- `email` is the address the link was sent to: verification and email change act only while it still applies.
CREATE TABLE "account_tokens" (
	"token_hash" bytea PRIMARY KEY,
	"user_id" integer NOT NULL REFERENCES "users"("id") ON DELETE CASCADE,
	"purpose" text NOT NULL,
	"email" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "account_tokens_purpose_check" CHECK ("purpose" IN ('invitation', 'password_reset', 'email_verification', 'email_change'))
);--> statement-breakpoint
CREATE INDEX "account_tokens_user_id_purpose_idx" ON "account_tokens" ("user_id", "purpose", "created_at");--> statement-breakpoint
CREATE INDEX "account_tokens_expires_at_idx" ON "account_tokens" ("expires_at");--> statement-breakpoint

-- The transactional outbox: a row is written by the statement that causes the email, delivered after the commit
-- and retried by the scheduled handler. `id` is the provider's idempotency key.
CREATE TABLE "email_outbox" (
	"id" uuid PRIMARY KEY,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"kind" text NOT NULL,
	"to_address" text NOT NULL,
	"subject" text NOT NULL,
	"text_body" text,
	"html_body" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"sent_at" timestamp with time zone,
	"transport" text,
	"provider_id" text,
	CONSTRAINT "email_outbox_status_check" CHECK ("status" IN ('pending', 'sent', 'failed'))
);--> statement-breakpoint
CREATE INDEX "email_outbox_due_idx" ON "email_outbox" ("next_attempt_at") WHERE "status" = 'pending';--> statement-breakpoint
CREATE INDEX "email_outbox_to_address_idx" ON "email_outbox" ("to_address", "created_at");--> statement-breakpoint
CREATE INDEX "email_outbox_sent_at_idx" ON "email_outbox" ("sent_at") WHERE "status" <> 'pending';--> statement-breakpoint

-- Indexes the scheduled purge walks.
CREATE INDEX "sessions_expires_at_idx" ON "sessions" ("expires_at");--> statement-breakpoint
CREATE INDEX "sessions_revoked_at_idx" ON "sessions" ("revoked_at") WHERE "revoked_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "rate_limits_window_start_idx" ON "rate_limits" ("window_start");
