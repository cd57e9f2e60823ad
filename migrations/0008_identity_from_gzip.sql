-- A rendered feed's identity body is no longer stored: it is gunzip(body_gzip), decoded where it is
-- needed. Its length stays known (identity HEAD requests answer Content-Length without decoding).
ALTER TABLE "feed_snapshots" ADD COLUMN "identity_length" integer;--> statement-breakpoint
UPDATE "feed_snapshots" SET "identity_length" = octet_length("body");--> statement-breakpoint
ALTER TABLE "feed_snapshots" ALTER COLUMN "identity_length" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "feed_snapshots" DROP COLUMN "body";
