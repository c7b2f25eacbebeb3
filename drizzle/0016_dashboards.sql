-- Dashboards (contract §15). A dashboard's widgets are one JSON array in its row: they are always read and replaced
-- together (PUT replaces the whole dashboard), at most 24, and a widget's query is only ever read whole. `version`
-- counts the replacements; the ETag is made from it, and a PUT with If-Match updates only the version it names.
-- owner_id is set null when the owner is deleted: the dashboard stays, for admin to edit or delete.
CREATE TABLE "dashboards" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"owner_id" integer REFERENCES "users"("id") ON DELETE SET NULL,
	"widgets" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dashboards_widgets_array" CHECK (jsonb_typeof("widgets") = 'array' AND jsonb_array_length("widgets") <= 24)
);
--> statement-breakpoint
CREATE INDEX "dashboards_owner_id_idx" ON "dashboards" ("owner_id", "id");
--> statement-breakpoint
-- Sharing by role: one row per (dashboard, role). A deleted role leaves every share it had (its holders no longer
-- see the dashboard through it); a role created later with the same name is a new role and gets nothing.
CREATE TABLE "dashboard_shares" (
	"dashboard_id" integer NOT NULL REFERENCES "dashboards"("id") ON DELETE CASCADE,
	"role_id" integer NOT NULL REFERENCES "roles"("id") ON DELETE CASCADE,
	PRIMARY KEY ("dashboard_id", "role_id")
);
--> statement-breakpoint
-- Who sees what: the visibility check walks a caller's roles to their shares.
CREATE INDEX "dashboard_shares_role_id_idx" ON "dashboard_shares" ("role_id", "dashboard_id");
