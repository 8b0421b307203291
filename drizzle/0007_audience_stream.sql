CREATE TABLE "audiences" (
	"mailing_id" bigint PRIMARY KEY NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"last_client_id" bigint NOT NULL,
	"cursor" bigint DEFAULT 0 NOT NULL,
	"size" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dispatch_leases" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "dispatch_leases_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"mailing_id" bigint NOT NULL,
	"owner" text NOT NULL,
	"until" timestamp with time zone NOT NULL,
	"message_ids" bigint[] NOT NULL,
	"client_ids" bigint[] NOT NULL,
	"phones" text[] NOT NULL,
	"timezones" text[] NOT NULL
);
--> statement-breakpoint
ALTER TABLE "messages" ALTER COLUMN "id" SET CACHE 1000;--> statement-breakpoint
DROP INDEX "messages_client_id_idx";--> statement-breakpoint
CREATE INDEX "messages_pending_client_idx" ON "messages" USING btree ("client_id") WHERE "messages"."status" = 'PENDING';--> statement-breakpoint
DROP INDEX "messages_due_idx";--> statement-breakpoint
ALTER TABLE "mailing_stats" ADD COLUMN "queued" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "audiences" ADD CONSTRAINT "audiences_mailing_id_mailings_id_fk" FOREIGN KEY ("mailing_id") REFERENCES "public"."mailings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dispatch_leases_mailing_until_idx" ON "dispatch_leases" USING btree ("mailing_id","until");--> statement-breakpoint
CREATE INDEX "messages_due_idx" ON "messages" USING btree ("mailing_id","next_attempt_at","id") WHERE "messages"."status" = 'PENDING';--> statement-breakpoint
-- Whether a client matches a mailing's filter: its operator code is any of the filter's codes
-- and its tags include any (ANY) or all (ALL) of the filter's tags; an empty list matches
-- everyone. Used by the start's count, the stream of an audience and the trigger below (a
-- plain SQL function, inlined where it is called: with the filter given as parameters, the
-- planner folds away what an empty filter does not need).
CREATE FUNCTION herald_in_audience(operator_code text, tags text[], f_codes text[], f_tags text[], f_match tag_match)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (cardinality(f_codes) = 0 OR operator_code = ANY (f_codes))
     AND (cardinality(f_tags) = 0 OR CASE WHEN f_match = 'ALL' THEN tags @> f_tags ELSE tags && f_tags END)
$$;
--> statement-breakpoint
-- Every message row written takes one member off its mailing's audience queue (never below
-- zero: rows written by hand, for a mailing without an audience, have none to take).
CREATE OR REPLACE FUNCTION herald_count_messages_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mailing_stats AS s (mailing_id, pending, sent, failed, expired, cancelled)
  SELECT mailing_id,
         count(*) FILTER (WHERE status = 'PENDING'),
         count(*) FILTER (WHERE status = 'SENT'),
         count(*) FILTER (WHERE status = 'FAILED'),
         count(*) FILTER (WHERE status = 'EXPIRED'),
         count(*) FILTER (WHERE status = 'CANCELLED')
  FROM new_rows GROUP BY mailing_id ORDER BY mailing_id
  ON CONFLICT (mailing_id) DO UPDATE SET
    pending = s.pending + excluded.pending,
    sent = s.sent + excluded.sent,
    failed = s.failed + excluded.failed,
    expired = s.expired + excluded.expired,
    cancelled = s.cancelled + excluded.cancelled,
    -- each new row has one status: their sum is how many rows this statement wrote
    queued = greatest(0, s.queued - (excluded.pending + excluded.sent + excluded.failed + excluded.expired + excluded.cancelled));
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Client writes and the start of a mailing exclude each other (advisory lock 721463/0:
-- shared for client writes, exclusive for a start), so that a start counts a settled
-- directory: no client is being inserted with an id below the highest one it sees, and every
-- change is either before the start (and counted as it is) or after it (and seen by the
-- trigger below). Inserts take it once per statement.
CREATE FUNCTION herald_clients_write_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(721463, 0);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER clients_write_lock BEFORE INSERT ON clients
  FOR EACH STATEMENT EXECUTE FUNCTION herald_clients_write_lock();
--> statement-breakpoint
-- A client who changes or leaves while a mailing's audience still holds it (not yet handed
-- out, unchanged since the start): a change first writes its message as the client was at
-- the start (then the stream skips it: changed since the start); a deletion takes it off the
-- queue. The audience row is locked FOR SHARE: a claim, which moves the cursor, holds it
-- FOR UPDATE, so the two never cross. A client who leaves also takes its messages not yet
-- sent (retries, send-window waits) out of every mailing; the rest keep their history.
CREATE FUNCTION herald_client_leaves_audiences() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  a record;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(721463, 0);
  FOR a IN
    SELECT au.mailing_id, g.filter_operator_codes, g.filter_tags, g.filter_tag_match
    FROM audiences au JOIN mailings g ON g.id = au.mailing_id
    WHERE au.cursor < OLD.id AND au.last_client_id >= OLD.id AND au.started_at >= OLD.updated_at
    ORDER BY au.mailing_id
    FOR SHARE OF au
  LOOP
    IF herald_in_audience(OLD.operator_code, OLD.tags, a.filter_operator_codes, a.filter_tags, a.filter_tag_match) THEN
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
  -- The time of the change itself, taken under the lock: later than any start it follows.
  NEW.updated_at := clock_timestamp();
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER clients_leave_audiences BEFORE UPDATE OR DELETE ON clients
  FOR EACH ROW EXECUTE FUNCTION herald_client_leaves_audiences();
