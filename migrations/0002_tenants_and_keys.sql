CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`name` text NOT NULL,
	`hash` text NOT NULL,
	`prefix` text NOT NULL,
	`rate_per_minute` integer NOT NULL,
	`tokens_per_day` integer NOT NULL,
	`money_per_day` real NOT NULL,
	`default_solve_tokens` integer NOT NULL,
	`default_solve_money` real NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash` ON `api_keys` (`hash`);--> statement-breakpoint
CREATE INDEX `api_keys_tenant` ON `api_keys` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `tenants` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `solves` ADD `tenant_id` text;--> statement-breakpoint
ALTER TABLE `solves` ADD `key_id` text;--> statement-breakpoint
CREATE INDEX `solves_tenant` ON `solves` (`tenant_id`,`created_at`);