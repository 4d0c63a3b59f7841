-- +goose Up
-- The detector's learned baseline models (opaque bytes), saved hourly and
-- at shutdown and loaded at start, so a start learns only the history since
-- (server/detector/savemodels.go).
CREATE TABLE IF NOT EXISTS `model_states` (`service_id` integer,`scope` text,`learned_until` integer NOT NULL,`state` blob NOT NULL,PRIMARY KEY (`service_id`,`scope`));

-- +goose Down
DROP TABLE `model_states`;
