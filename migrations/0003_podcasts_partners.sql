CREATE TABLE "partner_feed_stats" (
	"partner_id" uuid NOT NULL,
	"feed_path" text NOT NULL,
	"requests" bigint DEFAULT 0 NOT NULL,
	"ok_responses" bigint DEFAULT 0 NOT NULL,
	"not_modified_responses" bigint DEFAULT 0 NOT NULL,
	"last_fetch_at" timestamp with time zone,
	"last_user_agent" text,
	CONSTRAINT "partner_feed_stats_partner_id_feed_path_pk" PRIMARY KEY("partner_id","feed_path")
);
--> statement-breakpoint
CREATE TABLE "partners" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"key_hash" text NOT NULL,
	"key_prefix" text NOT NULL,
	"categories" text[],
	"embargo_minutes" integer DEFAULT 0 NOT NULL,
	"content" text DEFAULT 'full' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "articles" ADD COLUMN "podcast" jsonb;--> statement-breakpoint
ALTER TABLE "categories" ADD COLUMN "podcast" jsonb;--> statement-breakpoint
ALTER TABLE "partner_feed_stats" ADD CONSTRAINT "partner_feed_stats_partner_id_partners_id_fk" FOREIGN KEY ("partner_id") REFERENCES "public"."partners"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "partners_key_hash_idx" ON "partners" USING btree ("key_hash");