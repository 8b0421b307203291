CREATE TABLE "cost_windows" (
	"key" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"spent" bigint NOT NULL,
	CONSTRAINT "cost_windows_key_window_start_pk" PRIMARY KEY("key","window_start")
);
