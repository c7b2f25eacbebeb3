-- Single sign-on with OpenID Connect (contract §18, docs/sso.md).

-- A sign-in under way: one row per GET /v1/auth/oidc/:id/start, removed by its callback (single use) or left to expire
-- after 10 minutes. The state and the nonce are stored only as SHA-256 hashes: the raw state comes back in the
-- callback's query, the raw nonce in the browser's binding cookie. The PKCE verifier must be kept as it is (the token
-- endpoint wants it), and it is worth nothing without the provider's one-time code.
CREATE TABLE "oidc_states" (
	"state_hash" bytea PRIMARY KEY,
	"nonce_hash" bytea NOT NULL,
	"provider" text NOT NULL,
	"code_verifier" text NOT NULL,
	"redirect_uri" text NOT NULL,
	"return_to" text NOT NULL,
	"expires_at" timestamptz NOT NULL
);--> statement-breakpoint
CREATE INDEX "oidc_states_expires_at_idx" ON "oidc_states" ("expires_at");--> statement-breakpoint

-- Which provider account (issuer's `sub`) signs in which account: linked on the first sign-in with a verified email,
-- then found by `sub`, which a provider never reassigns (an email can be).
CREATE TABLE "oidc_identities" (
	"provider" text NOT NULL,
	"subject" text NOT NULL,
	"user_id" integer NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
	"email" text NOT NULL,
	"created_at" timestamptz NOT NULL DEFAULT now(),
	"last_used_at" timestamptz,
	PRIMARY KEY ("provider", "subject")
);--> statement-breakpoint
CREATE INDEX "oidc_identities_user_id_idx" ON "oidc_identities" ("user_id");--> statement-breakpoint

-- The one-time code the callback hands to the console (in the redirect), exchanged once for a token pair by
-- POST /v1/auth/oidc/exchange. Stored only as a hash; lives 60 seconds.
CREATE TABLE "oidc_codes" (
	"code_hash" bytea PRIMARY KEY,
	"user_id" integer NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
	"provider" text NOT NULL,
	"expires_at" timestamptz NOT NULL,
	"used_at" timestamptz
);--> statement-breakpoint
CREATE INDEX "oidc_codes_expires_at_idx" ON "oidc_codes" ("expires_at");
