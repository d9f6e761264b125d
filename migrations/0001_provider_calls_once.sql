ALTER TABLE `provider_calls` ADD `seq` integer;--> statement-breakpoint
ALTER TABLE `provider_calls` ADD `estimated` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `provider_calls_once` ON `provider_calls` (`solve_id`,`seq`);