CREATE TABLE `solve_feedback` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`solve_id` text NOT NULL,
	`tenant_id` text NOT NULL,
	`correct` integer NOT NULL,
	`answer` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `solve_feedback_solve` ON `solve_feedback` (`solve_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `solves` ADD `policy_version` text;--> statement-breakpoint
ALTER TABLE `solves` ADD `predicted_bin` integer;--> statement-breakpoint
ALTER TABLE `solves` ADD `estimator` text;--> statement-breakpoint
ALTER TABLE `solves` ADD `exploration` integer;--> statement-breakpoint
ALTER TABLE `solves` ADD `features` text;--> statement-breakpoint
CREATE INDEX `solves_policy` ON `solves` (`policy_version`,`finished_at`);