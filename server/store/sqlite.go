package store

import (
	"fmt"
	"net/url"
	"strings"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// openSQLite opens the file named by dsn (a path, sqlite://path or
// file:path): one writer connection and a pool of query-only readers.
// synchronous=FULL fsyncs every commit (a 202 survives a power loss; group
// commit pays the fsync once a batch); deferred (NORMAL) leaves the log's
// fsync to checkpoints and to the store's walSyncer, and a commit survives
// a crash of the process as soon as it returns.
func openSQLite(dsn string, deferred bool) (w, r *gorm.DB, path string, err error) {
	path = strings.TrimPrefix(dsn, "sqlite://")
	path = strings.TrimPrefix(path, "file:")
	params := url.Values{}
	params.Set("_journal_mode", "WAL")
	params.Set("_busy_timeout", "10000")
	params.Set("_synchronous", "FULL")
	if deferred {
		params.Set("_synchronous", "NORMAL")
	}
	params.Set("_foreign_keys", "on")
	params.Set("_txlock", "immediate")
	if w, err = gorm.Open(sqlite.Open("file:"+path+"?"+params.Encode()), gormConfig(false)); err != nil {
		return nil, nil, "", fmt.Errorf("store: open %s: %w", path, err)
	}
	wdb, err := w.DB()
	if err != nil {
		return nil, nil, "", err
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxIdleTime(0)
	wdb.SetConnMaxLifetime(0)

	rp := url.Values{}
	rp.Set("_busy_timeout", "10000")
	rp.Set("_query_only", "true")
	if r, err = gorm.Open(sqlite.Open("file:"+path+"?"+rp.Encode()), gormConfig(true)); err != nil {
		_ = wdb.Close()
		return nil, nil, "", fmt.Errorf("store: open readers %s: %w", path, err)
	}
	rdb, err := r.DB()
	if err != nil {
		_ = wdb.Close()
		return nil, nil, "", err
	}
	rdb.SetMaxOpenConns(4)
	rdb.SetMaxIdleConns(4)
	return w, r, path, nil
}
