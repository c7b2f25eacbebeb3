-- Version 3's base (contract §8 v3, §13): the three new permissions with the built-ins' grants, sources and their
-- write keys, and the event store. Later v3 migrations add what each area measures it needs (indexes, rollups).
INSERT INTO "permissions" ("name", "description") VALUES
	('dashboards:write', 'Create, edit, share and delete dashboards'),
	('events:read', 'Query events, list events and event names, read sources'),
	('sources:write', 'Create, rename, rotate and delete event sources')
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "role_permissions" ("role_id", "permission")
	SELECT r.id, p.name FROM "roles" r, "permissions" p
	WHERE p.name IN ('dashboards:write', 'events:read', 'sources:write')
	  AND (r.name = 'admin' OR (r.name = 'analyst' AND p.name IN ('dashboards:write', 'events:read')))
ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- A deleted source keeps its row (deleted_at set) until the purge has removed its events: every query reads only
-- events of live sources, so deletion takes them out of every result in the same commit.
CREATE TABLE "sources" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_event_at" timestamp with time zone,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
-- Write keys, stored as SHA-256 of the key only. expires_at null: the current key; set: a rotated key in its grace.
CREATE TABLE "source_keys" (
	"id" serial PRIMARY KEY NOT NULL,
	"source_id" integer NOT NULL REFERENCES "sources"("id") ON DELETE CASCADE,
	"key_hash" bytea NOT NULL UNIQUE,
	"prefix" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "source_keys_source_id_idx" ON "source_keys" ("source_id");
--> statement-breakpoint
-- The event store: one row per taken event, partitioned by month of the event's timestamp so a range query reads only
-- the months it touches (and old months can be detached whole). Partitions exist from 2025-11 to 2028-12; later
-- ones are created by ensure_event_partitions() (the scheduled job), and the default partition catches anything else.
CREATE TABLE "events" (
	"id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
	"source_id" integer NOT NULL,
	"event" text NOT NULL,
	"distinct_id" text NOT NULL,
	"timestamp" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"country" text,
	"properties" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"message_id" text,
	PRIMARY KEY ("id", "timestamp")
) PARTITION BY RANGE ("timestamp");
--> statement-breakpoint
CREATE TABLE "events_default" PARTITION OF "events" DEFAULT;
--> statement-breakpoint
CREATE FUNCTION "ensure_event_partitions"(first_month date, last_month date) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	m date := date_trunc('month', first_month)::date;
	made integer := 0;
	name text;
BEGIN
	WHILE m <= last_month LOOP
		name := 'events_' || to_char(m, 'YYYY_MM');
		IF to_regclass(name) IS NULL THEN
			EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
				name, m::text || 'T00:00:00Z', (m + interval '1 month')::date::text || 'T00:00:00Z');
			made := made + 1;
		END IF;
		m := (m + interval '1 month')::date;
	END LOOP;
	RETURN made;
END;
$$;
--> statement-breakpoint
SELECT ensure_event_partitions('2025-11-01', '2028-12-01');
--> statement-breakpoint
-- Exactly once (§13): one row per (source, key) ever taken, where key is the event's messageId or, for an event
-- without one, the id the ingest route gave it. Not partitioned, so the uniqueness holds across months.
CREATE TABLE "event_keys" (
	"source_id" integer NOT NULL,
	"key" text NOT NULL,
	PRIMARY KEY ("source_id", "key")
);
--> statement-breakpoint
CREATE INDEX "events_event_timestamp_idx" ON "events" ("event", "timestamp");
--> statement-breakpoint
CREATE INDEX "events_timestamp_id_idx" ON "events" ("timestamp", "id");
--> statement-breakpoint
CREATE INDEX "events_distinct_id_timestamp_idx" ON "events" ("distinct_id", "timestamp");
