CREATE TABLE `policy_tenant_active` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`version` text NOT NULL,
	`since` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `policy_events` ADD `tenant_id` text;--> statement-breakpoint
CREATE INDEX `policy_events_tenant` ON `policy_events` (`tenant_id`,`at`);--> statement-breakpoint
ALTER TABLE `policy_versions` ADD `tenant_id` text;--> statement-breakpoint
CREATE INDEX `policy_versions_tenant` ON `policy_versions` (`tenant_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `tenants` ADD `trusted` integer DEFAULT 0 NOT NULL;