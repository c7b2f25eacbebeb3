-- Exactly-once keys (0012 event_keys) learn their age so the hourly purge (src/jobs/purge-events.ts) can remove the
-- ones whose purpose has passed: an `i:` key (the ingest route's own id of an event sent without a messageId) only
-- guards against Cloudflare Queues redelivering a message, which cannot happen after the queue's retention (at most
-- 14 days); an `m:` key (the client's messageId) is kept for INGEST_DEDUP_DAYS (0, the default: forever, as §13's
-- "however often" reads). Rows present now get the time of this migration (a constant default: no table rewrite).
-- BRIN: keys arrive in time order, so a few pages of summary serve "older than" for a table of one row per event.
ALTER TABLE "event_keys" ADD COLUMN "created_at" timestamp with time zone DEFAULT now() NOT NULL;
--> statement-breakpoint
CREATE INDEX "event_keys_created_at_idx" ON "event_keys" USING brin ("created_at");
