-- A change below a full live window (an archive import) need not re-read the live feed: see
-- feed_state.live_version and live_floor in src/storage/schema.ts, and decision 0009.
ALTER TABLE "feed_state" ADD COLUMN "live_version" bigint DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "feed_state" ADD COLUMN "live_floor" timestamp with time zone;--> statement-breakpoint
-- Every change so far counts as a live one: a feed waiting for its render still gets it.
UPDATE "feed_state" SET "live_version" = "version";
