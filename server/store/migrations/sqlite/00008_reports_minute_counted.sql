-- +goose Up
-- Rollup's fingerprint of each minute's counted reports (how many, the
-- largest and the sum of their ids) is read from this index alone, and its
-- recompute of a bucket reads that bucket's counted rows through it. Its
-- minute prefix serves Prune and CountedSince as idx_reports_minute did.
CREATE INDEX IF NOT EXISTS `idx_reports_minute_counted` ON `reports`(`minute`,`counted`,`id`);
DROP INDEX IF EXISTS `idx_reports_minute`;

-- +goose Down
CREATE INDEX IF NOT EXISTS `idx_reports_minute` ON `reports`(`minute`);
DROP INDEX IF EXISTS `idx_reports_minute_counted`;
