ALTER TYPE "public"."message_status" ADD VALUE 'DELIVERED';--> statement-breakpoint
ALTER TYPE "public"."message_status" ADD VALUE 'UNDELIVERED';--> statement-breakpoint
CREATE TABLE "parked_receipts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "parked_receipts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"provider" text NOT NULL,
	"provider_message_id" text NOT NULL,
	"status" text NOT NULL,
	"error" text,
	"at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "parked_receipts_provider_id_key" UNIQUE("provider","provider_message_id")
);
--> statement-breakpoint
CREATE TABLE "inbound_messages" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "inbound_messages_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"provider" text NOT NULL,
	"from_phone" text NOT NULL,
	"text" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"client_id" bigint,
	"action" text
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"webhook_id" bigint NOT NULL,
	"event_id" bigint NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone,
	CONSTRAINT "webhook_deliveries_webhook_id_event_id_pk" PRIMARY KEY("webhook_id","event_id")
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "webhook_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "webhooks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"url" text NOT NULL,
	"events" text[] NOT NULL,
	"description" text,
	"secret" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"disabled_reason" text,
	"failing_since" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "delivered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "mailing_stats" ADD COLUMN "delivered" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "mailing_stats" ADD COLUMN "undelivered" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_webhooks_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."webhooks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_webhook_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."webhook_events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "parked_receipts_received_at_idx" ON "parked_receipts" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "inbound_messages_from_phone_id_idx" ON "inbound_messages" USING btree ("from_phone","id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_pending_idx" ON "webhook_deliveries" USING btree ("webhook_id","event_id") WHERE "webhook_deliveries"."status" = 'PENDING';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_event_idx" ON "webhook_deliveries" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "messages_provider_message_idx" ON "messages" USING btree ("provider","provider_message_id") WHERE "messages"."provider_message_id" is not null;--> statement-breakpoint
-- The counters count DELIVERED and UNDELIVERED too (drizzle/0008 counted the other statuses).
-- Statuses are compared as text: a value added by ALTER TYPE cannot be used as an enum
-- literal in the transaction that adds it.
CREATE OR REPLACE FUNCTION herald_count_messages_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mailing_stats AS s (mailing_id, pending, sent, failed, expired, cancelled, skipped, delivered, undelivered)
  SELECT mailing_id,
         count(*) FILTER (WHERE status::text = 'PENDING'),
         count(*) FILTER (WHERE status::text = 'SENT'),
         count(*) FILTER (WHERE status::text = 'FAILED'),
         count(*) FILTER (WHERE status::text = 'EXPIRED'),
         count(*) FILTER (WHERE status::text = 'CANCELLED'),
         count(*) FILTER (WHERE status::text = 'SKIPPED'),
         count(*) FILTER (WHERE status::text = 'DELIVERED'),
         count(*) FILTER (WHERE status::text = 'UNDELIVERED')
  FROM new_rows GROUP BY mailing_id ORDER BY mailing_id
  ON CONFLICT (mailing_id) DO UPDATE SET
    pending = s.pending + excluded.pending,
    sent = s.sent + excluded.sent,
    failed = s.failed + excluded.failed,
    expired = s.expired + excluded.expired,
    cancelled = s.cancelled + excluded.cancelled,
    skipped = s.skipped + excluded.skipped,
    delivered = s.delivered + excluded.delivered,
    undelivered = s.undelivered + excluded.undelivered,
    -- each new row has one status: their sum is how many rows this statement wrote
    queued = greatest(0, s.queued - (excluded.pending + excluded.sent + excluded.failed + excluded.expired + excluded.cancelled + excluded.skipped
                                     + excluded.delivered + excluded.undelivered));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION herald_count_messages_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mailing_stats AS s (mailing_id, pending, sent, failed, expired, cancelled, skipped, delivered, undelivered)
  SELECT mailing_id, sum(pending), sum(sent), sum(failed), sum(expired), sum(cancelled), sum(skipped), sum(delivered), sum(undelivered)
  FROM (
    SELECT mailing_id,
           (status::text = 'PENDING')::int AS pending, (status::text = 'SENT')::int AS sent,
           (status::text = 'FAILED')::int AS failed, (status::text = 'EXPIRED')::int AS expired,
           (status::text = 'CANCELLED')::int AS cancelled, (status::text = 'SKIPPED')::int AS skipped,
           (status::text = 'DELIVERED')::int AS delivered, (status::text = 'UNDELIVERED')::int AS undelivered
    FROM new_rows
    UNION ALL
    SELECT mailing_id,
           -(status::text = 'PENDING')::int, -(status::text = 'SENT')::int, -(status::text = 'FAILED')::int,
           -(status::text = 'EXPIRED')::int, -(status::text = 'CANCELLED')::int, -(status::text = 'SKIPPED')::int,
           -(status::text = 'DELIVERED')::int, -(status::text = 'UNDELIVERED')::int
    FROM old_rows
  ) d
  GROUP BY mailing_id
  HAVING sum(pending) <> 0 OR sum(sent) <> 0 OR sum(failed) <> 0 OR sum(expired) <> 0 OR sum(cancelled) <> 0 OR sum(skipped) <> 0
      OR sum(delivered) <> 0 OR sum(undelivered) <> 0
  ORDER BY mailing_id
  ON CONFLICT (mailing_id) DO UPDATE SET
    pending = s.pending + excluded.pending,
    sent = s.sent + excluded.sent,
    failed = s.failed + excluded.failed,
    expired = s.expired + excluded.expired,
    cancelled = s.cancelled + excluded.cancelled,
    skipped = s.skipped + excluded.skipped,
    delivered = s.delivered + excluded.delivered,
    undelivered = s.undelivered + excluded.undelivered;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION herald_count_messages_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE mailing_stats s SET
    pending = s.pending - d.pending, sent = s.sent - d.sent, failed = s.failed - d.failed,
    expired = s.expired - d.expired, cancelled = s.cancelled - d.cancelled, skipped = s.skipped - d.skipped,
    delivered = s.delivered - d.delivered, undelivered = s.undelivered - d.undelivered
  FROM (
    SELECT mailing_id,
           count(*) FILTER (WHERE status::text = 'PENDING') AS pending,
           count(*) FILTER (WHERE status::text = 'SENT') AS sent,
           count(*) FILTER (WHERE status::text = 'FAILED') AS failed,
           count(*) FILTER (WHERE status::text = 'EXPIRED') AS expired,
           count(*) FILTER (WHERE status::text = 'CANCELLED') AS cancelled,
           count(*) FILTER (WHERE status::text = 'SKIPPED') AS skipped,
           count(*) FILTER (WHERE status::text = 'DELIVERED') AS delivered,
           count(*) FILTER (WHERE status::text = 'UNDELIVERED') AS undelivered
    FROM old_rows GROUP BY mailing_id
  ) d
  WHERE s.mailing_id = d.mailing_id;
  RETURN NULL;
END $$;
