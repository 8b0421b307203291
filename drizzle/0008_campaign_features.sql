ALTER TYPE "public"."message_status" ADD VALUE 'SKIPPED';--> statement-breakpoint
CREATE TABLE "opt_outs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "opt_outs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"phone" text NOT NULL,
	"reason" text,
	"opted_out_at" timestamp with time zone NOT NULL,
	CONSTRAINT "opt_outs_phone_key" UNIQUE("phone")
);
--> statement-breakpoint
CREATE TABLE "frequency_ledger" (
	"message_id" bigint PRIMARY KEY NOT NULL,
	"client_id" bigint NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "test_sends" (
	"id" bigint PRIMARY KEY NOT NULL,
	"phone" text NOT NULL,
	"text" text NOT NULL,
	"status" "message_status" NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "name" text;--> statement-breakpoint
ALTER TABLE "clients" ADD COLUMN "attributes" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "mailings" ADD COLUMN "name" text;--> statement-breakpoint
ALTER TABLE "mailings" ADD COLUMN "frequency_cap_count" integer;--> statement-breakpoint
ALTER TABLE "mailings" ADD COLUMN "frequency_cap_window_s" integer;--> statement-breakpoint
ALTER TABLE "mailings" ADD COLUMN "max_failure_rate" real;--> statement-breakpoint
ALTER TABLE "mailings" ADD COLUMN "paused_reason" text;--> statement-breakpoint
ALTER TABLE "mailing_stats" ADD COLUMN "skipped" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "mailing_stats" ADD COLUMN "recent" smallint[] DEFAULT '{}'::smallint[] NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "text" text;--> statement-breakpoint
CREATE INDEX "frequency_ledger_client_at_idx" ON "frequency_ledger" USING btree ("client_id","at");--> statement-breakpoint
-- The counters count SKIPPED too (drizzle/0003 and 0007 counted the other statuses).
CREATE OR REPLACE FUNCTION herald_count_messages_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mailing_stats AS s (mailing_id, pending, sent, failed, expired, cancelled, skipped)
  SELECT mailing_id,
         count(*) FILTER (WHERE status = 'PENDING'),
         count(*) FILTER (WHERE status = 'SENT'),
         count(*) FILTER (WHERE status = 'FAILED'),
         count(*) FILTER (WHERE status = 'EXPIRED'),
         count(*) FILTER (WHERE status = 'CANCELLED'),
         count(*) FILTER (WHERE status = 'SKIPPED')
  FROM new_rows GROUP BY mailing_id ORDER BY mailing_id
  ON CONFLICT (mailing_id) DO UPDATE SET
    pending = s.pending + excluded.pending,
    sent = s.sent + excluded.sent,
    failed = s.failed + excluded.failed,
    expired = s.expired + excluded.expired,
    cancelled = s.cancelled + excluded.cancelled,
    skipped = s.skipped + excluded.skipped,
    -- each new row has one status: their sum is how many rows this statement wrote
    queued = greatest(0, s.queued - (excluded.pending + excluded.sent + excluded.failed + excluded.expired + excluded.cancelled + excluded.skipped));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION herald_count_messages_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mailing_stats AS s (mailing_id, pending, sent, failed, expired, cancelled, skipped)
  SELECT mailing_id, sum(pending), sum(sent), sum(failed), sum(expired), sum(cancelled), sum(skipped)
  FROM (
    SELECT mailing_id,
           (status = 'PENDING')::int AS pending, (status = 'SENT')::int AS sent,
           (status = 'FAILED')::int AS failed, (status = 'EXPIRED')::int AS expired,
           (status = 'CANCELLED')::int AS cancelled, (status = 'SKIPPED')::int AS skipped
    FROM new_rows
    UNION ALL
    SELECT mailing_id,
           -(status = 'PENDING')::int, -(status = 'SENT')::int, -(status = 'FAILED')::int,
           -(status = 'EXPIRED')::int, -(status = 'CANCELLED')::int, -(status = 'SKIPPED')::int
    FROM old_rows
  ) d
  GROUP BY mailing_id
  HAVING sum(pending) <> 0 OR sum(sent) <> 0 OR sum(failed) <> 0 OR sum(expired) <> 0 OR sum(cancelled) <> 0 OR sum(skipped) <> 0
  ORDER BY mailing_id
  ON CONFLICT (mailing_id) DO UPDATE SET
    pending = s.pending + excluded.pending,
    sent = s.sent + excluded.sent,
    failed = s.failed + excluded.failed,
    expired = s.expired + excluded.expired,
    cancelled = s.cancelled + excluded.cancelled,
    skipped = s.skipped + excluded.skipped;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION herald_count_messages_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE mailing_stats s SET
    pending = s.pending - d.pending, sent = s.sent - d.sent, failed = s.failed - d.failed,
    expired = s.expired - d.expired, cancelled = s.cancelled - d.cancelled, skipped = s.skipped - d.skipped
  FROM (
    SELECT mailing_id,
           count(*) FILTER (WHERE status = 'PENDING') AS pending,
           count(*) FILTER (WHERE status = 'SENT') AS sent,
           count(*) FILTER (WHERE status = 'FAILED') AS failed,
           count(*) FILTER (WHERE status = 'EXPIRED') AS expired,
           count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled,
           count(*) FILTER (WHERE status = 'SKIPPED') AS skipped
    FROM old_rows GROUP BY mailing_id
  ) d
  WHERE s.mailing_id = d.mailing_id;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- A client's change or deletion while a running mailing's audience still holds it, as in
-- drizzle/0007, now with opt-outs: a phone opted out at the mailing's start was never part of
-- its audience, so its change or deletion changes nothing there.
CREATE OR REPLACE FUNCTION herald_client_leaves_audiences() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  a record;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(721463, 0);
  FOR a IN
    SELECT au.mailing_id, au.started_at, g.filter_operator_codes, g.filter_tags, g.filter_tag_match
    FROM audiences au JOIN mailings g ON g.id = au.mailing_id
    WHERE au.cursor < OLD.id AND au.last_client_id >= OLD.id AND au.started_at >= OLD.updated_at
    ORDER BY au.mailing_id
    FOR SHARE OF au
  LOOP
    IF herald_in_audience(OLD.operator_code, OLD.tags, a.filter_operator_codes, a.filter_tags, a.filter_tag_match)
       AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = OLD.phone AND o.opted_out_at <= a.started_at) THEN
      IF TG_OP = 'DELETE' THEN
        UPDATE mailing_stats SET queued = greatest(0, queued - 1) WHERE mailing_id = a.mailing_id;
      ELSE
        INSERT INTO messages (mailing_id, client_id, phone, timezone) VALUES (a.mailing_id, OLD.id, OLD.phone, OLD.timezone)
        ON CONFLICT (mailing_id, client_id) DO NOTHING;
      END IF;
    END IF;
  END LOOP;
  IF TG_OP = 'DELETE' THEN
    DELETE FROM messages WHERE client_id = OLD.id AND status = 'PENDING';
    RETURN OLD;
  END IF;
  NEW.updated_at := clock_timestamp();
  RETURN NEW;
END $$;
--> statement-breakpoint
-- Opt-outs are client writes for the audience lock (see herald_clients_write_lock): an
-- opt-out is either before a mailing's start, and its phone not part of that audience, or
-- after, and its message SKIPPED when its turn comes. Lifting one (opt-in) touches the client,
-- so that a mailing it was kept out of at its start goes on without it (the stream skips
-- clients changed since the start), and a mailing it was part of writes its message now.
CREATE FUNCTION herald_opt_out_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(721463, 0);
  IF TG_OP = 'DELETE' THEN
    UPDATE clients SET updated_at = clock_timestamp() WHERE phone = OLD.phone;
    RETURN OLD;
  END IF;
  -- Opted out since the first time: a new reason changes nothing about which mailings it left.
  NEW.opted_out_at := CASE WHEN TG_OP = 'INSERT' THEN clock_timestamp() ELSE OLD.opted_out_at END;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER opt_outs_written BEFORE INSERT OR UPDATE OR DELETE ON opt_outs
  FOR EACH ROW EXECUTE FUNCTION herald_opt_out_written();
