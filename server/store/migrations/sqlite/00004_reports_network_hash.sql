-- +goose Up
-- The keyed hash of the reporter's /24 or /48: the rate limiter restores its
-- per-network evidence markers from the counted reports of the last 15
-- minutes after a restart or a loss of Redis.
ALTER TABLE `reports` ADD COLUMN `network_hash` text NOT NULL DEFAULT "";

-- +goose Down
ALTER TABLE `reports` DROP COLUMN `network_hash`;
