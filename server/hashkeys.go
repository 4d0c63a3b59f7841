package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/outcry/outcry/handlers"
	"github.com/outcry/outcry/server/hashkey"
	"github.com/outcry/outcry/server/store"
)

// legacySecretKey is the setting in which versions before the key file
// kept the reporter hash secret, in the database beside the hashes.
const legacySecretKey = "reporter_hash_secret"

// hashKeys returns the day keys reporter hashes are made with: derived from
// OUTCRY_HASH_SECRET when it is set, otherwise a ratchet in a key file
// beside the SQLite database (OUTCRY_HASH_KEY_FILE). A secret that an older
// version kept in the database seeds the key file's first day (so today's
// hashes do not change) and is then erased from the database.
func hashKeys(ctx context.Context, cfg Config, st *store.Store, now time.Time, log *slog.Logger) (handlers.DayKeys, error) {
	legacy, found, err := st.TakeSetting(ctx, legacySecretKey)
	if err != nil {
		return nil, err
	}
	var keys handlers.DayKeys
	if cfg.HashSecret != "" {
		keys = hashkey.FromSecret([]byte(cfg.HashSecret))
	} else {
		path := cfg.HashKeyFile
		if path == "" {
			path = strings.TrimPrefix(strings.TrimPrefix(cfg.DatabaseURL, "sqlite://"), "file:") + ".hashkey"
		}
		f, err := hashkey.OpenFile(path, now, []byte(legacy))
		if err != nil {
			return nil, fmt.Errorf("OUTCRY_HASH_KEY_FILE: %w", err)
		}
		keys = f
	}
	if found {
		if err := st.EraseSetting(ctx, legacySecretKey); err != nil {
			return nil, fmt.Errorf("erasing the hash secret from the database: %w", err)
		}
		log.Info("moved the reporter hash key out of the database; it now lives in the key file or OUTCRY_HASH_SECRET")
	}
	return keys, nil
}
