-- +goose Up
-- The detector's learned baseline models (opaque bytes), saved hourly and
-- at shutdown and loaded at start, so a start learns only the history since
-- (server/detector/savemodels.go).
CREATE TABLE model_states (
    service_id bigint NOT NULL,
    scope varchar(8) NOT NULL,
    learned_until bigint NOT NULL,
    state bytea NOT NULL,
    PRIMARY KEY (service_id, scope)
);

-- +goose Down
DROP TABLE model_states;
