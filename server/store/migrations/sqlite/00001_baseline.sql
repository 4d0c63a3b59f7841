-- +goose Up
-- The schema of the last release, made by GORM AutoMigrate. IF NOT EXISTS: a database
-- that release created already has all of it, and is then only marked as migrated.
CREATE TABLE IF NOT EXISTS `services` (`id` integer PRIMARY KEY AUTOINCREMENT,`slug` text NOT NULL,`name` text NOT NULL,`problems` text NOT NULL,`cold_start` integer NOT NULL DEFAULT 0,`demo` numeric NOT NULL DEFAULT false,`created_at` datetime,`updated_at` datetime);
CREATE UNIQUE INDEX IF NOT EXISTS `idx_services_slug` ON `services`(`slug`);
CREATE TABLE IF NOT EXISTS `reports` (`id` integer PRIMARY KEY AUTOINCREMENT,`service_id` integer NOT NULL,`problem` text NOT NULL,`region` text NOT NULL,`note` text NOT NULL DEFAULT "",`reporter_hash` text NOT NULL,`counted` numeric NOT NULL,`minute` integer NOT NULL,`created_at` datetime NOT NULL);
CREATE INDEX IF NOT EXISTS `idx_reports_minute` ON `reports`(`minute`);
CREATE TABLE IF NOT EXISTS `rollups` (`service_id` integer,`bucket` integer,`region` text,`problem` text,`count` integer NOT NULL,`demo` numeric NOT NULL DEFAULT false,PRIMARY KEY (`service_id`,`bucket`,`region`,`problem`));
CREATE INDEX IF NOT EXISTS `idx_rollups_bucket` ON `rollups`(`bucket`);
CREATE TABLE IF NOT EXISTS `incidents` (`id` integer PRIMARY KEY AUTOINCREMENT,`service_id` integer NOT NULL,`scope` text NOT NULL,`level` text NOT NULL,`started_at` datetime NOT NULL,`resolved_at` datetime,`peak_at` datetime NOT NULL,`peak` real NOT NULL,`window` integer NOT NULL,`expected` real NOT NULL,`actual` real NOT NULL,`ratio` real NOT NULL,`significance` real NOT NULL,`rule` text NOT NULL,`top_problems` text,`top_regions` text,`notified_level` text NOT NULL DEFAULT "",`notified_peak` real NOT NULL DEFAULT 0,`notified_at` datetime NOT NULL,`created_at` datetime,`updated_at` datetime);
CREATE INDEX IF NOT EXISTS `idx_incidents_resolved_at` ON `incidents`(`resolved_at`);
CREATE INDEX IF NOT EXISTS `idx_incidents_service_started` ON `incidents`(`service_id`,`started_at`);
CREATE TABLE IF NOT EXISTS `settings` (`key` text,`value` text NOT NULL,PRIMARY KEY (`key`));
CREATE TABLE IF NOT EXISTS `detector_states` (`service_id` integer,`scope` text,`state` blob NOT NULL,`updated_at` datetime,PRIMARY KEY (`service_id`,`scope`));
CREATE TABLE IF NOT EXISTS `events` (`id` text,`type` text NOT NULL,`service_id` integer NOT NULL DEFAULT 0,`service_slug` text NOT NULL DEFAULT "",`incident_id` integer NOT NULL DEFAULT 0,`target` text NOT NULL DEFAULT "",`payload` blob NOT NULL,`occurred_at` datetime NOT NULL,`fanned_out` numeric NOT NULL DEFAULT false,`created_at` datetime,PRIMARY KEY (`id`));
CREATE INDEX IF NOT EXISTS `idx_events_fanned_out` ON `events`(`fanned_out`);
CREATE TABLE IF NOT EXISTS `webhooks` (`id` text,`url` text NOT NULL,`services` text NOT NULL,`events` text NOT NULL,`description` text NOT NULL DEFAULT "",`format` text NOT NULL DEFAULT "",`secret` text NOT NULL,`previous_secret` text NOT NULL DEFAULT "",`previous_secret_expires` datetime,`disabled` numeric NOT NULL DEFAULT false,`disabled_at` datetime,`disabled_reason` text NOT NULL DEFAULT "",`created_at` datetime,`updated_at` datetime,PRIMARY KEY (`id`));
CREATE INDEX IF NOT EXISTS `idx_webhooks_disabled` ON `webhooks`(`disabled`);
CREATE TABLE IF NOT EXISTS `deliveries` (`id` text,`event_id` text NOT NULL,`webhook_id` text NOT NULL,`event_type` text NOT NULL,`status` text NOT NULL,`attempts` integer NOT NULL DEFAULT 0,`next_attempt_at` datetime NOT NULL,`first_attempt_at` datetime,`lease_until` datetime,`lease_token` text NOT NULL DEFAULT "",`last_status_code` integer NOT NULL DEFAULT 0,`last_latency` integer NOT NULL DEFAULT 0,`last_error` text NOT NULL DEFAULT "",`created_at` datetime,`updated_at` datetime,PRIMARY KEY (`id`));
CREATE INDEX IF NOT EXISTS `idx_deliveries_lease_token` ON `deliveries`(`lease_token`);
CREATE INDEX IF NOT EXISTS `idx_deliveries_due` ON `deliveries`(`status`,`next_attempt_at`);
CREATE INDEX IF NOT EXISTS `idx_deliveries_webhook_id` ON `deliveries`(`webhook_id`);
CREATE UNIQUE INDEX IF NOT EXISTS `idx_deliveries_event_webhook` ON `deliveries`(`event_id`,`webhook_id`);
CREATE TABLE IF NOT EXISTS `attempts` (`id` integer PRIMARY KEY AUTOINCREMENT,`delivery_id` text NOT NULL,`n` integer NOT NULL,`at` datetime NOT NULL,`status_code` integer NOT NULL DEFAULT 0,`latency` integer NOT NULL,`error` text NOT NULL DEFAULT "",`outcome` text NOT NULL,`next_retry_at` datetime,CONSTRAINT `fk_deliveries_log` FOREIGN KEY (`delivery_id`) REFERENCES `deliveries`(`id`) ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS `idx_attempts_delivery_id` ON `attempts`(`delivery_id`);
