-- Ingestion (contract §13, docs/ingest.md): what the write path needs beside 0012's tables.
-- One current key per source: a rotation that races another one fails on this index (and is retried by the route)
-- instead of leaving a source with two current keys.
CREATE UNIQUE INDEX "source_keys_current_idx" ON "source_keys" ("source_id") WHERE "expires_at" IS NULL;
--> statement-breakpoint
-- The per-source limit (INGEST_EVENTS_PER_MINUTE): events taken per source per fixed one-minute window. A batch that
-- would go over is refused whole by the same upsert that counts it; the purge drops windows older than an hour.
CREATE TABLE "ingest_windows" (
	"source_id" integer NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"events" integer NOT NULL,
	PRIMARY KEY ("source_id", "window_start")
);
--> statement-breakpoint
-- Queue messages that exhausted their retries (the dead-letter queue's consumer parks them here), for an operator to
-- read and replay (npm run ingest:dead-letters). `body` is the message as the ingest route sent it.
CREATE TABLE "ingest_dead_letters" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"message_id" text NOT NULL UNIQUE,
	"body" jsonb NOT NULL,
	"attempts" integer NOT NULL,
	"dead_at" timestamp with time zone DEFAULT now() NOT NULL
);
