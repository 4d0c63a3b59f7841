-- +goose Up
-- Official status sources (server/official): each service may name its own
-- public status page; the leader polls it and keeps the poll state with the
-- normalised status (official_sources, one row per service) and the
-- incidents the page published (official_incidents). An Outcry incident
-- records when the detector opened it and when the official page first
-- acknowledged it.
ALTER TABLE services ADD COLUMN official_status_url varchar(2048) NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN official_components text;
ALTER TABLE incidents ADD COLUMN opened_at timestamptz;
ALTER TABLE incidents ADD COLUMN official_acknowledged_at timestamptz;
CREATE TABLE official_sources (
    service_id bigint NOT NULL,
    url varchar(2048) NOT NULL,
    endpoint varchar(2048) NOT NULL DEFAULT '',
    kind varchar(16) NOT NULL DEFAULT '',
    etag varchar(512) NOT NULL DEFAULT '',
    last_modified varchar(128) NOT NULL DEFAULT '',
    body_sha256 varchar(64) NOT NULL DEFAULT '',
    last_poll_at timestamptz,
    last_ok_at timestamptz,
    failing_since timestamptz,
    last_error varchar(500) NOT NULL DEFAULT '',
    status varchar(16) NOT NULL DEFAULT 'unknown',
    description varchar(500) NOT NULL DEFAULT '',
    status_at timestamptz,
    page_url varchar(2048) NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (service_id)
);
CREATE INDEX idx_official_sources_updated_at ON official_sources (updated_at);
CREATE TABLE official_incidents (
    id bigserial PRIMARY KEY,
    service_id bigint NOT NULL,
    external_id varchar(200) NOT NULL,
    title varchar(500) NOT NULL DEFAULT '',
    status varchar(32) NOT NULL DEFAULT '',
    impact varchar(32) NOT NULL DEFAULT '',
    first_update_at timestamptz,
    first_seen_at timestamptz NOT NULL,
    seen_after timestamptz,
    resolved_at timestamptz,
    url varchar(2048) NOT NULL DEFAULT '',
    created_at timestamptz,
    updated_at timestamptz
);
CREATE UNIQUE INDEX idx_official_incidents_ext ON official_incidents (service_id, external_id);

-- +goose Down
DROP TABLE official_incidents;
DROP TABLE official_sources;
ALTER TABLE incidents DROP COLUMN official_acknowledged_at;
ALTER TABLE incidents DROP COLUMN opened_at;
ALTER TABLE services DROP COLUMN official_components;
ALTER TABLE services DROP COLUMN official_status_url;
