-- +goose Up
-- One leader among replicas: the lease row (used on PostgreSQL; a SQLite
-- file has one process, always the leader), the term stamped on every
-- outbox event (the fencing token it was written under), and the statuses
-- the leader publishes for followers to serve.
CREATE TABLE IF NOT EXISTS `leader_leases` (`name` text,`holder` text NOT NULL,`term` integer NOT NULL,`acquired_at` datetime NOT NULL,`expires_at` datetime NOT NULL,PRIMARY KEY (`name`));
ALTER TABLE `events` ADD COLUMN `term` integer NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS `service_statuses` (`service_id` integer,`seq` integer NOT NULL,`body` blob NOT NULL,PRIMARY KEY (`service_id`));
CREATE INDEX IF NOT EXISTS `idx_service_statuses_seq` ON `service_statuses`(`seq`);

-- +goose Down
DROP TABLE `service_statuses`;
ALTER TABLE `events` DROP COLUMN `term`;
DROP TABLE `leader_leases`;
