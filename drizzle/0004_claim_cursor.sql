DROP INDEX "messages_due_idx";--> statement-breakpoint
CREATE INDEX "messages_due_idx" ON "messages" USING btree ("next_attempt_at","id") WHERE "messages"."status" = 'PENDING';