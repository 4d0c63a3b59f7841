-- +goose Up
-- Deleting a service deletes its reports by service_id, in slices.
CREATE INDEX idx_reports_service ON reports (service_id);

-- +goose Down
DROP INDEX idx_reports_service;
