-- +goose NO TRANSACTION
-- +goose Up
-- Rollup's fingerprint of each minute's counted reports (how many, the
-- largest and the sum of their ids) is read from this index alone (an index
-- only scan), and its recompute of a bucket reads that bucket's counted rows
-- through it. Its minute prefix serves Prune and CountedSince as
-- idx_reports_minute did. Built CONCURRENTLY: replicas of the previous
-- release keep inserting reports meanwhile. A build that failed half-way
-- leaves an invalid index of the same name, so it is dropped first.
DROP INDEX CONCURRENTLY IF EXISTS idx_reports_minute_counted;
CREATE INDEX CONCURRENTLY idx_reports_minute_counted ON reports (minute, counted, id);
DROP INDEX CONCURRENTLY IF EXISTS idx_reports_minute;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_reports_minute ON reports (minute);
DROP INDEX CONCURRENTLY IF EXISTS idx_reports_minute_counted;
