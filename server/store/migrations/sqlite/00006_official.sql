-- +goose Up
-- Official status sources (server/official): each service may name its own
-- public status page; the leader polls it and keeps the poll state with the
-- normalised status (official_sources, one row per service) and the
-- incidents the page published (official_incidents). An Outcry incident
-- records when the detector opened it and when the official page first
-- acknowledged it.
ALTER TABLE `services` ADD COLUMN `official_status_url` text NOT NULL DEFAULT "";
ALTER TABLE `services` ADD COLUMN `official_components` text;
ALTER TABLE `incidents` ADD COLUMN `opened_at` datetime;
ALTER TABLE `incidents` ADD COLUMN `official_acknowledged_at` datetime;
CREATE TABLE IF NOT EXISTS `official_sources` (`service_id` integer,`url` text NOT NULL,`endpoint` text NOT NULL DEFAULT "",`kind` text NOT NULL DEFAULT "",`etag` text NOT NULL DEFAULT "",`last_modified` text NOT NULL DEFAULT "",`body_sha256` text NOT NULL DEFAULT "",`last_poll_at` datetime,`last_ok_at` datetime,`failing_since` datetime,`last_error` text NOT NULL DEFAULT "",`status` text NOT NULL DEFAULT "unknown",`description` text NOT NULL DEFAULT "",`status_at` datetime,`page_url` text NOT NULL DEFAULT "",`updated_at` datetime NOT NULL,PRIMARY KEY (`service_id`));
CREATE INDEX IF NOT EXISTS `idx_official_sources_updated_at` ON `official_sources`(`updated_at`);
CREATE TABLE IF NOT EXISTS `official_incidents` (`id` integer PRIMARY KEY AUTOINCREMENT,`service_id` integer NOT NULL,`external_id` text NOT NULL,`title` text NOT NULL DEFAULT "",`status` text NOT NULL DEFAULT "",`impact` text NOT NULL DEFAULT "",`first_update_at` datetime,`first_seen_at` datetime NOT NULL,`seen_after` datetime,`resolved_at` datetime,`url` text NOT NULL DEFAULT "",`created_at` datetime,`updated_at` datetime);
CREATE UNIQUE INDEX IF NOT EXISTS `idx_official_incidents_ext` ON `official_incidents`(`service_id`,`external_id`);

-- +goose Down
DROP TABLE `official_incidents`;
DROP TABLE `official_sources`;
ALTER TABLE `incidents` DROP COLUMN `official_acknowledged_at`;
ALTER TABLE `incidents` DROP COLUMN `opened_at`;
ALTER TABLE `services` DROP COLUMN `official_components`;
ALTER TABLE `services` DROP COLUMN `official_status_url`;
