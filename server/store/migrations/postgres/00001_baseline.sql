-- +goose Up
-- The schema of the last release as GORM AutoMigrate makes it on PostgreSQL.
CREATE TABLE services (
    id bigserial PRIMARY KEY,
    slug varchar(64) NOT NULL,
    name varchar(120) NOT NULL,
    problems text NOT NULL,
    cold_start bigint NOT NULL DEFAULT 0,
    demo boolean NOT NULL DEFAULT false,
    created_at timestamptz,
    updated_at timestamptz
);
CREATE UNIQUE INDEX idx_services_slug ON services (slug);

CREATE TABLE reports (
    id bigserial PRIMARY KEY,
    service_id bigint NOT NULL,
    problem varchar(32) NOT NULL,
    region varchar(2) NOT NULL,
    note varchar(1200) NOT NULL DEFAULT '',
    reporter_hash varchar(32) NOT NULL,
    counted boolean NOT NULL,
    minute bigint NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX idx_reports_minute ON reports (minute);

CREATE TABLE rollups (
    service_id bigint NOT NULL,
    bucket bigint NOT NULL,
    region varchar(2) NOT NULL,
    problem varchar(32) NOT NULL,
    count bigint NOT NULL,
    demo boolean NOT NULL DEFAULT false,
    PRIMARY KEY (service_id, bucket, region, problem)
);
CREATE INDEX idx_rollups_bucket ON rollups (bucket);

CREATE TABLE incidents (
    id bigserial PRIMARY KEY,
    service_id bigint NOT NULL,
    scope varchar(8) NOT NULL,
    level varchar(8) NOT NULL,
    started_at timestamptz NOT NULL,
    resolved_at timestamptz,
    peak_at timestamptz NOT NULL,
    peak numeric NOT NULL,
    "window" bigint NOT NULL,
    expected numeric NOT NULL,
    actual numeric NOT NULL,
    ratio numeric NOT NULL,
    significance numeric NOT NULL,
    rule varchar(200) NOT NULL,
    top_problems text,
    top_regions text,
    notified_level varchar(8) NOT NULL DEFAULT '',
    notified_peak numeric NOT NULL DEFAULT 0,
    notified_at timestamptz NOT NULL,
    created_at timestamptz,
    updated_at timestamptz
);
CREATE INDEX idx_incidents_resolved_at ON incidents (resolved_at);
CREATE INDEX idx_incidents_service_started ON incidents (service_id, started_at);

CREATE TABLE settings (
    key varchar(64) PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE detector_states (
    service_id bigint NOT NULL,
    scope varchar(8) NOT NULL,
    state bytea NOT NULL,
    updated_at timestamptz,
    PRIMARY KEY (service_id, scope)
);

CREATE TABLE events (
    id varchar(40) PRIMARY KEY,
    type varchar(32) NOT NULL,
    service_id bigint NOT NULL DEFAULT 0,
    service_slug varchar(64) NOT NULL DEFAULT '',
    incident_id bigint NOT NULL DEFAULT 0,
    target varchar(40) NOT NULL DEFAULT '',
    payload bytea NOT NULL,
    occurred_at timestamptz NOT NULL,
    fanned_out boolean NOT NULL DEFAULT false,
    created_at timestamptz
);
CREATE INDEX idx_events_fanned_out ON events (fanned_out);

CREATE TABLE webhooks (
    id varchar(40) PRIMARY KEY,
    url varchar(2048) NOT NULL,
    services text NOT NULL,
    events text NOT NULL,
    description varchar(500) NOT NULL DEFAULT '',
    format varchar(16) NOT NULL DEFAULT '',
    secret varchar(100) NOT NULL,
    previous_secret varchar(100) NOT NULL DEFAULT '',
    previous_secret_expires timestamptz,
    disabled boolean NOT NULL DEFAULT false,
    disabled_at timestamptz,
    disabled_reason varchar(500) NOT NULL DEFAULT '',
    created_at timestamptz,
    updated_at timestamptz
);
CREATE INDEX idx_webhooks_disabled ON webhooks (disabled);

CREATE TABLE deliveries (
    id varchar(40) PRIMARY KEY,
    event_id varchar(40) NOT NULL,
    webhook_id varchar(40) NOT NULL,
    event_type varchar(32) NOT NULL,
    status varchar(16) NOT NULL,
    attempts bigint NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    first_attempt_at timestamptz,
    lease_until timestamptz,
    lease_token varchar(40) NOT NULL DEFAULT '',
    last_status_code bigint NOT NULL DEFAULT 0,
    last_latency bigint NOT NULL DEFAULT 0,
    last_error varchar(500) NOT NULL DEFAULT '',
    created_at timestamptz,
    updated_at timestamptz
);
CREATE INDEX idx_deliveries_lease_token ON deliveries (lease_token);
CREATE INDEX idx_deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX idx_deliveries_webhook_id ON deliveries (webhook_id);
CREATE UNIQUE INDEX idx_deliveries_event_webhook ON deliveries (event_id, webhook_id);

CREATE TABLE attempts (
    id bigserial PRIMARY KEY,
    delivery_id varchar(40) NOT NULL,
    n bigint NOT NULL,
    at timestamptz NOT NULL,
    status_code bigint NOT NULL DEFAULT 0,
    latency bigint NOT NULL,
    error varchar(500) NOT NULL DEFAULT '',
    outcome varchar(16) NOT NULL,
    next_retry_at timestamptz,
    CONSTRAINT fk_deliveries_log FOREIGN KEY (delivery_id) REFERENCES deliveries (id) ON DELETE CASCADE
);
CREATE INDEX idx_attempts_delivery_id ON attempts (delivery_id);
