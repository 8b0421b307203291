CREATE TYPE "public"."mailing_status" AS ENUM('SCHEDULED', 'RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED');--> statement-breakpoint
CREATE TYPE "public"."tag_match" AS ENUM('ANY', 'ALL');--> statement-breakpoint
CREATE TYPE "public"."message_status" AS ENUM('PENDING', 'SENT', 'FAILED', 'EXPIRED', 'CANCELLED');--> statement-breakpoint
CREATE TABLE "clients" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "clients_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"phone" text NOT NULL,
	"operator_code" text NOT NULL,
	"tags" text[] DEFAULT '{}' NOT NULL,
	"timezone" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "clients_phone_key" UNIQUE("phone")
);
--> statement-breakpoint
CREATE TABLE "mailings" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "mailings_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"text" text NOT NULL,
	"start_at" timestamp with time zone NOT NULL,
	"end_at" timestamp with time zone NOT NULL,
	"filter_operator_codes" text[] DEFAULT '{}' NOT NULL,
	"filter_tags" text[] DEFAULT '{}' NOT NULL,
	"filter_tag_match" "tag_match" DEFAULT 'ANY' NOT NULL,
	"status" "mailing_status" DEFAULT 'SCHEDULED' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mailings_end_after_start" CHECK ("mailings"."end_at" > "mailings"."start_at")
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "messages_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"mailing_id" bigint NOT NULL,
	"client_id" bigint NOT NULL,
	"phone" text NOT NULL,
	"status" "message_status" DEFAULT 'PENDING' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "messages_mailing_client_key" UNIQUE("mailing_id","client_id")
);
--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_mailing_id_mailings_id_fk" FOREIGN KEY ("mailing_id") REFERENCES "public"."mailings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "clients_tags_gin" ON "clients" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "clients_operator_code_id_idx" ON "clients" USING btree ("operator_code","id");--> statement-breakpoint
CREATE INDEX "mailings_status_id_idx" ON "mailings" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "messages_mailing_status_id_idx" ON "messages" USING btree ("mailing_id","status","id");--> statement-breakpoint
CREATE INDEX "messages_client_id_idx" ON "messages" USING btree ("client_id");