CREATE TABLE `provider_calls` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`solve_id` text NOT NULL,
	`step` integer NOT NULL,
	`provider` text NOT NULL,
	`purpose` text NOT NULL,
	`requests` integer NOT NULL,
	`samples` integer NOT NULL,
	`prompt_tokens` integer NOT NULL,
	`completion_tokens` integer NOT NULL,
	`latency_ms` integer NOT NULL,
	`status` text NOT NULL,
	`cost` real NOT NULL
);
--> statement-breakpoint
CREATE INDEX `provider_calls_solve` ON `provider_calls` (`solve_id`);--> statement-breakpoint
CREATE TABLE `solves` (
	`id` text PRIMARY KEY NOT NULL,
	`prompt_hash` text NOT NULL,
	`status` text NOT NULL,
	`stop_reason` text,
	`detail` text,
	`strategy` text NOT NULL,
	`spec` text NOT NULL,
	`budget` text NOT NULL,
	`seed` integer NOT NULL,
	`answer` text,
	`confidence` real,
	`generations` real NOT NULL,
	`samples` integer NOT NULL,
	`generator_tokens` integer NOT NULL,
	`verifier_tokens` integer NOT NULL,
	`flops` real NOT NULL,
	`money` real NOT NULL,
	`steps` integer NOT NULL,
	`created_at` integer NOT NULL,
	`finished_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `solves_created_at` ON `solves` (`created_at`);