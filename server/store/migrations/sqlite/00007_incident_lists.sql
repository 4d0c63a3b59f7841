-- +goose Up
-- Incidents across services (GET /api/v1/incidents) and the feeds: a
-- service's incidents and events newest first by id, and the correlation
-- group of incidents that began together (several services, one cause).
ALTER TABLE `incidents` ADD COLUMN `correlation_id` integer;
CREATE INDEX IF NOT EXISTS `idx_incidents_correlation_id` ON `incidents`(`correlation_id`);
CREATE INDEX IF NOT EXISTS `idx_incidents_service_id` ON `incidents`(`service_id`,`id`);
CREATE INDEX IF NOT EXISTS `idx_events_service_id` ON `events`(`service_id`,`id`);

-- +goose Down
DROP INDEX `idx_events_service_id`;
DROP INDEX `idx_incidents_service_id`;
DROP INDEX `idx_incidents_correlation_id`;
ALTER TABLE `incidents` DROP COLUMN `correlation_id`;
