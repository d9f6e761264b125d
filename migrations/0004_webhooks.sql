CREATE TABLE `webhook_disabled_endpoints` (
	`tenant_id` text NOT NULL,
	`url` text NOT NULL,
	`disabled_at` integer NOT NULL,
	`delivery_id` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `url`)
);
--> statement-breakpoint
CREATE TABLE `webhook_attempts` (
	`delivery_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`at` integer NOT NULL,
	`status_code` integer,
	`error` text,
	PRIMARY KEY(`delivery_id`, `attempt`)
);
--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`solve_id` text NOT NULL,
	`url` text NOT NULL,
	`event_type` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`next_attempt_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_tenant` ON `webhook_deliveries` (`tenant_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `tenants` ADD `webhook_secret` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `webhook_secret_previous` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `webhook_secret_previous_until` integer;