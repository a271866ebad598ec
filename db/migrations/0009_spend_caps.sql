CREATE TABLE "spend_counters" (
	"subject" text NOT NULL,
	"period" text NOT NULL,
	"spend_micro_usd" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "spend_counters_subject_period_pk" PRIMARY KEY("subject","period")
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "spend_cap_daily_micro_usd" bigint;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "spend_cap_monthly_micro_usd" bigint;--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "spend_cap_daily_micro_usd" bigint;--> statement-breakpoint
ALTER TABLE "endpoints" ADD COLUMN "spend_cap_monthly_micro_usd" bigint;--> statement-breakpoint
CREATE INDEX "ledger_entries_reference_idx" ON "ledger_entries" USING btree ("reference");