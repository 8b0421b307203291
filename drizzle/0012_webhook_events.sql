-- Webhook events (issue 19): written by statement-level triggers in the transaction of the
-- change they tell of, so every code path that changes a message, a mailing, an inbound
-- message or an opt-out is covered and an event exists exactly when its change committed.
-- Each trigger first asks, once per statement, whether any enabled webhook wants its type:
-- with none, that `exists` is all it costs. Then one statement writes the events (in row
-- order, so their ids follow it) and one PENDING delivery per enabled webhook subscribing
-- to them. No NOTIFY: it would serialise every committing transaction that changes
-- messages on PostgreSQL's notification queue lock; the senders poll (WEBHOOK_POLL_MS).
-- Statuses are compared as text (values added by ALTER TYPE in 0011). Ids are JSON
-- strings: they are 64-bit.

CREATE FUNCTION herald_webhook_wanted(kind text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM webhooks WHERE enabled AND kind = ANY (events))
$$;
--> statement-breakpoint
CREATE FUNCTION herald_webhook_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT herald_webhook_wanted('MESSAGE_STATUS') THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    WITH ev AS (
      INSERT INTO webhook_events (type, data)
      SELECT 'MESSAGE_STATUS', jsonb_build_object(
      'messageId', n.id::text, 'mailingId', n.mailing_id::text, 'clientId', n.client_id::text,
      'phone', n.phone, 'status', n.status::text, 'provider', n.provider, 'error', n.last_error)
    FROM new_rows n
    WHERE n.status::text IN ('SENT', 'DELIVERED', 'UNDELIVERED', 'FAILED', 'EXPIRED', 'CANCELLED', 'SKIPPED')
    ORDER BY n.id
      RETURNING id
    )
    INSERT INTO webhook_deliveries (webhook_id, event_id)
    SELECT w.id, ev.id FROM ev CROSS JOIN webhooks w WHERE w.enabled AND 'MESSAGE_STATUS' = ANY (w.events) ORDER BY ev.id, w.id;
  ELSE
    WITH ev AS (
      INSERT INTO webhook_events (type, data)
      SELECT 'MESSAGE_STATUS', jsonb_build_object(
      'messageId', n.id::text, 'mailingId', n.mailing_id::text, 'clientId', n.client_id::text,
      'phone', n.phone, 'status', n.status::text, 'provider', n.provider, 'error', n.last_error)
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.status IS DISTINCT FROM o.status
      AND n.status::text IN ('SENT', 'DELIVERED', 'UNDELIVERED', 'FAILED', 'EXPIRED', 'CANCELLED', 'SKIPPED')
    ORDER BY n.id
      RETURNING id
    )
    INSERT INTO webhook_deliveries (webhook_id, event_id)
    SELECT w.id, ev.id FROM ev CROSS JOIN webhooks w WHERE w.enabled AND 'MESSAGE_STATUS' = ANY (w.events) ORDER BY ev.id, w.id;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION herald_webhook_mailings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT herald_webhook_wanted('MAILING_STATUS') THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    WITH ev AS (
      INSERT INTO webhook_events (type, data)
      SELECT 'MAILING_STATUS', jsonb_build_object('mailingId', n.id::text, 'name', n.name, 'status', n.status::text, 'previousStatus', NULL)
    FROM new_rows n ORDER BY n.id
      RETURNING id
    )
    INSERT INTO webhook_deliveries (webhook_id, event_id)
    SELECT w.id, ev.id FROM ev CROSS JOIN webhooks w WHERE w.enabled AND 'MAILING_STATUS' = ANY (w.events) ORDER BY ev.id, w.id;
  ELSE
    WITH ev AS (
      INSERT INTO webhook_events (type, data)
      SELECT 'MAILING_STATUS', jsonb_build_object('mailingId', n.id::text, 'name', n.name, 'status', n.status::text, 'previousStatus', o.status::text)
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.status IS DISTINCT FROM o.status
    ORDER BY n.id
      RETURNING id
    )
    INSERT INTO webhook_deliveries (webhook_id, event_id)
    SELECT w.id, ev.id FROM ev CROSS JOIN webhooks w WHERE w.enabled AND 'MAILING_STATUS' = ANY (w.events) ORDER BY ev.id, w.id;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION herald_webhook_inbound() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT herald_webhook_wanted('INBOUND') THEN RETURN NULL; END IF;
  WITH ev AS (
    INSERT INTO webhook_events (type, data)
    SELECT 'INBOUND', jsonb_build_object('id', n.id::text, 'from', n.from_phone, 'text', n.text, 'provider', n.provider,
    'clientId', n.client_id::text, 'action', n.action, 'receivedAt', n.received_at)
  FROM new_rows n ORDER BY n.id
    RETURNING id
  )
  INSERT INTO webhook_deliveries (webhook_id, event_id)
  SELECT w.id, ev.id FROM ev CROSS JOIN webhooks w WHERE w.enabled AND 'INBOUND' = ANY (w.events) ORDER BY ev.id, w.id;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- An opt-out is OPT_OUT with optedOut true; lifting it (optIn) is OPT_OUT with optedOut false.
CREATE FUNCTION herald_webhook_opt_outs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT herald_webhook_wanted('OPT_OUT') THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    WITH ev AS (
      INSERT INTO webhook_events (type, data)
      SELECT 'OPT_OUT', jsonb_build_object('phone', n.phone, 'optedOut', true, 'reason', n.reason, 'optedOutAt', n.opted_out_at)
    FROM new_rows n ORDER BY n.id
      RETURNING id
    )
    INSERT INTO webhook_deliveries (webhook_id, event_id)
    SELECT w.id, ev.id FROM ev CROSS JOIN webhooks w WHERE w.enabled AND 'OPT_OUT' = ANY (w.events) ORDER BY ev.id, w.id;
  ELSE
    WITH ev AS (
      INSERT INTO webhook_events (type, data)
      SELECT 'OPT_OUT', jsonb_build_object('phone', o.phone, 'optedOut', false, 'reason', o.reason, 'optedOutAt', o.opted_out_at)
    FROM old_rows o ORDER BY o.id
      RETURNING id
    )
    INSERT INTO webhook_deliveries (webhook_id, event_id)
    SELECT w.id, ev.id FROM ev CROSS JOIN webhooks w WHERE w.enabled AND 'OPT_OUT' = ANY (w.events) ORDER BY ev.id, w.id;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER messages_webhooks_on_insert AFTER INSERT ON messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_messages();
--> statement-breakpoint
CREATE TRIGGER messages_webhooks_on_update AFTER UPDATE ON messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_messages();
--> statement-breakpoint
CREATE TRIGGER mailings_webhooks_on_insert AFTER INSERT ON mailings
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_mailings();
--> statement-breakpoint
CREATE TRIGGER mailings_webhooks_on_update AFTER UPDATE ON mailings
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_mailings();
--> statement-breakpoint
CREATE TRIGGER inbound_webhooks_on_insert AFTER INSERT ON inbound_messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_inbound();
--> statement-breakpoint
CREATE TRIGGER opt_outs_webhooks_on_insert AFTER INSERT ON opt_outs
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_opt_outs();
--> statement-breakpoint
CREATE TRIGGER opt_outs_webhooks_on_delete AFTER DELETE ON opt_outs
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_opt_outs();
