-- +goose Up
-- One leader among replicas: the lease row (a logged table: after a crash
-- the term must not restart), the term stamped on every outbox event (the
-- fencing token it was written under), and the statuses the leader
-- publishes for followers to serve.
CREATE TABLE leader_leases (
    name varchar(32) PRIMARY KEY,
    holder varchar(100) NOT NULL,
    term bigint NOT NULL,
    acquired_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
ALTER TABLE events ADD COLUMN term bigint NOT NULL DEFAULT 0;
CREATE TABLE service_statuses (
    service_id bigint PRIMARY KEY,
    seq bigint NOT NULL,
    body bytea NOT NULL
);
CREATE INDEX idx_service_statuses_seq ON service_statuses (seq);

-- +goose Down
DROP TABLE service_statuses;
ALTER TABLE events DROP COLUMN term;
DROP TABLE leader_leases;
