CREATE SEQUENCE "public"."feed_snapshot_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "feed_snapshots" (
	"feed_key" text NOT NULL,
	"format" text NOT NULL,
	"body" "bytea" NOT NULL,
	"body_gzip" "bytea" NOT NULL,
	"body_br" "bytea" NOT NULL,
	"etag" text NOT NULL,
	"last_modified" timestamp with time zone NOT NULL,
	"item_count" integer NOT NULL,
	"generated_at" timestamp with time zone NOT NULL,
	"source_version" bigint NOT NULL,
	"seq" bigint NOT NULL,
	CONSTRAINT "feed_snapshots_feed_key_format_pk" PRIMARY KEY("feed_key","format")
);
--> statement-breakpoint
CREATE TABLE "feed_state" (
	"feed_key" text PRIMARY KEY NOT NULL,
	"category_id" integer,
	"version" bigint DEFAULT 1 NOT NULL,
	"rendered_version" bigint DEFAULT 0 NOT NULL,
	"next_due_at" timestamp with time zone,
	"content_digest" text,
	"content_updated_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "feed_snapshots" ADD CONSTRAINT "feed_snapshots_feed_key_feed_state_feed_key_fk" FOREIGN KEY ("feed_key") REFERENCES "public"."feed_state"("feed_key") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "feed_state" ADD CONSTRAINT "feed_state_category_id_categories_id_fk" FOREIGN KEY ("category_id") REFERENCES "public"."categories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "feed_snapshots_seq_idx" ON "feed_snapshots" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "feed_state_category_idx" ON "feed_state" USING btree ("category_id");--> statement-breakpoint
-- The feed of every published article exists from the start; category feeds are added as categories are.
INSERT INTO "feed_state" ("feed_key") VALUES ('all') ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "feed_state" ("feed_key", "category_id") SELECT "slug", "id" FROM "categories" ON CONFLICT DO NOTHING;
