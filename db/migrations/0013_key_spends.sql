CREATE TABLE "key_spends" (
	"job_id" text PRIMARY KEY NOT NULL,
	"api_key_id" text NOT NULL,
	"spent_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "key_spends_spent_at_idx" ON "key_spends" USING btree ("spent_at");