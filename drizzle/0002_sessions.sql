CREATE TABLE "sessions" (
	"sid" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"client_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"auth_time" timestamp with time zone NOT NULL,
	"amr" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"ip" text,
	"user_agent" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" text
);
--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "sessions_ended_idx" ON "sessions" USING btree ("ended_at");--> statement-breakpoint
CREATE INDEX "sessions_last_used_idx" ON "sessions" USING btree ("last_used_at");--> statement-breakpoint
ALTER TABLE "refresh_tokens" ADD COLUMN "session_id" uuid;--> statement-breakpoint
ALTER TABLE "refresh_tokens" ADD COLUMN "successor_sealed" text;--> statement-breakpoint
ALTER TABLE "authorization_codes" ADD COLUMN "session_id" uuid;--> statement-breakpoint
-- Every existing refresh-token family becomes a session whose sid is the family id: the access tokens
-- already issued from it carry that value as `sid`, so ending the session ends them too.
INSERT INTO "sessions" ("sid", "user_id", "client_ids", "auth_time", "amr", "created_at", "last_used_at", "ended_at", "end_reason")
SELECT "family_id", min("user_id"::text)::uuid,
	CASE WHEN min("client_id") IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(min("client_id")) END,
	min("auth_time"), '[]'::jsonb, min("created_at"), max(coalesce("used_at", "created_at")),
	CASE WHEN bool_and("revoked_at" IS NOT NULL) THEN max("revoked_at") END,
	CASE WHEN bool_and("revoked_at" IS NOT NULL) THEN 'revoked' END
FROM "refresh_tokens" GROUP BY "family_id";--> statement-breakpoint
UPDATE "refresh_tokens" SET "session_id" = "family_id";--> statement-breakpoint
ALTER TABLE "refresh_tokens" ADD CONSTRAINT "refresh_tokens_session_id_sessions_sid_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("sid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "authorization_codes" ADD CONSTRAINT "authorization_codes_session_id_sessions_sid_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("sid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "refresh_tokens_session_idx" ON "refresh_tokens" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "authorization_codes_session_idx" ON "authorization_codes" USING btree ("session_id");
