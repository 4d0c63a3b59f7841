-- +goose Up
-- Deleting a service deletes its reports by service_id, in slices.
CREATE INDEX IF NOT EXISTS `idx_reports_service` ON `reports`(`service_id`);

-- +goose Down
DROP INDEX IF EXISTS `idx_reports_service`;
