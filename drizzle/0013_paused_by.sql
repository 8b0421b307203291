-- Who paused a mailing and when (issue 20): written by the lifecycle's pause transition, the
-- principal's id for an operator's pause, 'Herald itself' for the failure-share auto-pause;
-- cleared by every other status write, as paused_reason is.
ALTER TABLE "mailings" ADD COLUMN "paused_by" text;
--> statement-breakpoint
ALTER TABLE "mailings" ADD COLUMN "paused_at" timestamp with time zone;
