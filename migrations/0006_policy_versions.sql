CREATE TABLE `policy_active` (
	`id` integer PRIMARY KEY NOT NULL,
	`version` text NOT NULL,
	`since` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `policy_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`action` text NOT NULL,
	`from_version` text NOT NULL,
	`to_version` text NOT NULL,
	`actor` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `policy_events_at` ON `policy_events` (`at`);--> statement-breakpoint
CREATE TABLE `policy_versions` (
	`version` text PRIMARY KEY NOT NULL,
	`document` text NOT NULL,
	`kind` text NOT NULL,
	`parent` text,
	`outcomes` integer NOT NULL,
	`evaluation` text NOT NULL,
	`decision` text NOT NULL,
	`reason` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `policy_versions_created` ON `policy_versions` (`created_at`);--> statement-breakpoint
ALTER TABLE `solves` ADD `cap_tokens` real;--> statement-breakpoint
ALTER TABLE `solves` ADD `propensity` real;