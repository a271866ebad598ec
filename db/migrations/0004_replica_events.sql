CREATE TABLE "replica_events" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"endpoint_id" text NOT NULL,
	"replica_id" text NOT NULL,
	"state" "replica_state" NOT NULL,
	"detail" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "replica_events" ADD CONSTRAINT "replica_events_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "replica_events" ADD CONSTRAINT "replica_events_endpoint_id_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."endpoints"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "replica_events" ADD CONSTRAINT "replica_events_replica_id_replicas_id_fk" FOREIGN KEY ("replica_id") REFERENCES "public"."replicas"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "replica_events_endpoint_idx" ON "replica_events" USING btree ("endpoint_id","id");