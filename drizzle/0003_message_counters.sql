-- Per-mailing message counts kept by statement-level triggers on messages: each INSERT,
-- UPDATE or DELETE statement adds its changes, aggregated per mailing, in one upsert of
-- mailing_stats. Rows are upserted in mailing order, so two statements touching the same
-- mailings lock their counter rows in the same order and cannot deadlock on them.

CREATE FUNCTION herald_count_messages_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
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
    cancelled = s.cancelled + excluded.cancelled;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION herald_count_messages_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Most updates (claims, leases, retries) leave the status as it was: only mailings whose
  -- counts really moved are written.
  INSERT INTO mailing_stats AS s (mailing_id, pending, sent, failed, expired, cancelled)
  SELECT mailing_id, sum(pending), sum(sent), sum(failed), sum(expired), sum(cancelled)
  FROM (
    SELECT mailing_id,
           (status = 'PENDING')::int AS pending, (status = 'SENT')::int AS sent,
           (status = 'FAILED')::int AS failed, (status = 'EXPIRED')::int AS expired,
           (status = 'CANCELLED')::int AS cancelled
    FROM new_rows
    UNION ALL
    SELECT mailing_id,
           -(status = 'PENDING')::int, -(status = 'SENT')::int, -(status = 'FAILED')::int,
           -(status = 'EXPIRED')::int, -(status = 'CANCELLED')::int
    FROM old_rows
  ) d
  GROUP BY mailing_id
  HAVING sum(pending) <> 0 OR sum(sent) <> 0 OR sum(failed) <> 0 OR sum(expired) <> 0 OR sum(cancelled) <> 0
  ORDER BY mailing_id
  ON CONFLICT (mailing_id) DO UPDATE SET
    pending = s.pending + excluded.pending,
    sent = s.sent + excluded.sent,
    failed = s.failed + excluded.failed,
    expired = s.expired + excluded.expired,
    cancelled = s.cancelled + excluded.cancelled;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION herald_count_messages_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- UPDATE, not upsert: when the messages go because their mailing is deleted, its counter
  -- row is gone too and must not come back.
  UPDATE mailing_stats s SET
    pending = s.pending - d.pending, sent = s.sent - d.sent, failed = s.failed - d.failed,
    expired = s.expired - d.expired, cancelled = s.cancelled - d.cancelled
  FROM (
    SELECT mailing_id,
           count(*) FILTER (WHERE status = 'PENDING') AS pending,
           count(*) FILTER (WHERE status = 'SENT') AS sent,
           count(*) FILTER (WHERE status = 'FAILED') AS failed,
           count(*) FILTER (WHERE status = 'EXPIRED') AS expired,
           count(*) FILTER (WHERE status = 'CANCELLED') AS cancelled
    FROM old_rows GROUP BY mailing_id
  ) d
  WHERE s.mailing_id = d.mailing_id;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER messages_counted_on_insert AFTER INSERT ON messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_messages_inserted();
--> statement-breakpoint
CREATE TRIGGER messages_counted_on_update AFTER UPDATE ON messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_messages_updated();
--> statement-breakpoint
CREATE TRIGGER messages_counted_on_delete AFTER DELETE ON messages
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_messages_deleted();
--> statement-breakpoint
-- Counters for messages written before this migration.
INSERT INTO mailing_stats (mailing_id, pending, sent, failed, expired, cancelled)
SELECT mailing_id,
       count(*) FILTER (WHERE status = 'PENDING'), count(*) FILTER (WHERE status = 'SENT'),
       count(*) FILTER (WHERE status = 'FAILED'), count(*) FILTER (WHERE status = 'EXPIRED'),
       count(*) FILTER (WHERE status = 'CANCELLED')
FROM messages GROUP BY mailing_id
ON CONFLICT (mailing_id) DO NOTHING;
