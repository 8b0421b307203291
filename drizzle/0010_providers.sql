-- Unlogged: a pace and a view of the last seconds, nothing worth WAL (src/providers/provider.table.ts).
CREATE UNLOGGED TABLE "provider_budgets" (
	"provider" text PRIMARY KEY NOT NULL,
	"tat" double precision NOT NULL
);
--> statement-breakpoint
CREATE UNLOGGED TABLE "provider_states" (
	"provider" text NOT NULL,
	"owner" text NOT NULL,
	"type" text NOT NULL,
	"state" text NOT NULL,
	"reason" text,
	"in_flight" integer DEFAULT 0 NOT NULL,
	"binds_up" integer,
	"binds" integer,
	"parts_per_second" double precision DEFAULT 0 NOT NULL,
	"sent_per_second" double precision DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_states_provider_owner_pk" PRIMARY KEY("provider","owner")
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "provider" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "provider_message_id" text;