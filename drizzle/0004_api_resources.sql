CREATE TABLE "apis" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"identifier" text NOT NULL,
	"name" text NOT NULL,
	"access_token_ttl_seconds" integer,
	"allow_offline_access" boolean DEFAULT true NOT NULL,
	"built_in" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "apis_identifier_idx" ON "apis" USING btree ("identifier");
--> statement-breakpoint
CREATE UNIQUE INDEX "apis_one_built_in_idx" ON "apis" USING btree ("built_in") WHERE "built_in";
--> statement-breakpoint
CREATE TABLE "api_scopes" (
	"api_id" uuid NOT NULL REFERENCES "apis"("id") ON DELETE cascade,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"built_in" boolean DEFAULT false NOT NULL,
	CONSTRAINT "api_scopes_api_id_name_pk" PRIMARY KEY("api_id","name")
);
--> statement-breakpoint
CREATE TABLE "roles" (
	"name" text PRIMARY KEY NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"built_in" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "role_permissions" (
	"role" text NOT NULL REFERENCES "roles"("name") ON DELETE cascade,
	"api_id" uuid NOT NULL,
	"scope" text NOT NULL,
	CONSTRAINT "role_permissions_role_api_id_scope_pk" PRIMARY KEY("role","api_id","scope"),
	CONSTRAINT "role_permissions_scope_fk" FOREIGN KEY ("api_id","scope") REFERENCES "api_scopes"("api_id","name") ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE "oauth_clients" ADD COLUMN "resources" jsonb DEFAULT '{}'::jsonb NOT NULL;
--> statement-breakpoint
ALTER TABLE "refresh_tokens" ADD COLUMN "resource" text;
--> statement-breakpoint
ALTER TABLE "authorization_codes" ADD COLUMN "resource" text;
--> statement-breakpoint
INSERT INTO "apis" ("id", "identifier", "name", "built_in") VALUES ('00000000-0000-4000-8000-000000000001', 'warden', 'Warden', true);
--> statement-breakpoint
INSERT INTO "api_scopes" ("api_id", "name", "description", "built_in") VALUES
	('00000000-0000-4000-8000-000000000001', 'account', 'Manage your account: profile, e-mail, password, two-step verification (first-party apps only)', true),
	('00000000-0000-4000-8000-000000000001', 'admin', 'Administer Warden (first-party apps only, for users holding the admin role)', true),
	('00000000-0000-4000-8000-000000000001', 'items:read', 'Read your items', true),
	('00000000-0000-4000-8000-000000000001', 'items:write', 'Create, change and delete your items', true);
--> statement-breakpoint
INSERT INTO "roles" ("name", "description", "built_in") VALUES
	('admin', 'Administers Warden', true),
	('user', 'A registered user', true),
	('guest', 'Read-only access to the examples', true);
--> statement-breakpoint
INSERT INTO "role_permissions" ("role", "api_id", "scope") VALUES
	('admin', '00000000-0000-4000-8000-000000000001', 'admin'),
	('admin', '00000000-0000-4000-8000-000000000001', 'items:read'),
	('admin', '00000000-0000-4000-8000-000000000001', 'items:write'),
	('user', '00000000-0000-4000-8000-000000000001', 'items:read'),
	('user', '00000000-0000-4000-8000-000000000001', 'items:write'),
	('guest', '00000000-0000-4000-8000-000000000001', 'items:read'),
	('guest', '00000000-0000-4000-8000-000000000001', 'items:write');
--> statement-breakpoint
INSERT INTO "roles" ("name") SELECT DISTINCT "role" FROM "user_roles" ON CONFLICT DO NOTHING;
--> statement-breakpoint
ALTER TABLE "user_roles" ADD CONSTRAINT "user_roles_role_fk" FOREIGN KEY ("role") REFERENCES "roles"("name") ON DELETE cascade;
