-- Article bodies and rendered feeds are compressed by Postgres itself when stored (TOAST). lz4 does
-- that several times faster than the default pglz, which was a third of the cost of writing a batch
-- of articles (bench/, ingest scenario). Only servers built with lz4 offer it: Debian's PostgreSQL
-- does; PGlite does not and keeps pglz. Values already stored keep the method they were written with.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
		ALTER TABLE "articles" ALTER COLUMN "content_html" SET COMPRESSION lz4;
		ALTER TABLE "articles" ALTER COLUMN "summary" SET COMPRESSION lz4;
		ALTER TABLE "feed_snapshots" ALTER COLUMN "body" SET COMPRESSION lz4;
	END IF;
END $$;--> statement-breakpoint
-- gzip and brotli bodies do not compress again: store them out of line without trying.
ALTER TABLE "feed_snapshots" ALTER COLUMN "body_gzip" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "feed_snapshots" ALTER COLUMN "body_br" SET STORAGE EXTERNAL;
