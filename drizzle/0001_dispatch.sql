ALTER TABLE "mailings" ADD COLUMN "send_window_from" smallint;--> statement-breakpoint
ALTER TABLE "mailings" ADD COLUMN "send_window_to" smallint;--> statement-breakpoint
ALTER TABLE "mailings" ADD COLUMN "started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "mailings" ADD COLUMN "finished_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "timezone" text DEFAULT 'UTC' NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "messages_due_idx" ON "messages" USING btree ("next_attempt_at") WHERE "messages"."status" = 'PENDING';--> statement-breakpoint
ALTER TABLE "mailings" ADD CONSTRAINT "mailings_send_window" CHECK (("mailings"."send_window_from" is null) = ("mailings"."send_window_to" is null) and "mailings"."send_window_from" between 0 and 1439 and "mailings"."send_window_to" between 0 and 1439 and "mailings"."send_window_from" <> "mailings"."send_window_to");