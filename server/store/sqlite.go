package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"strings"

	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// openSQLite opens the file named by dsn (a path, sqlite://path or
// file:path): one writer connection and a pool of query-only readers.
// With onCommit nil, synchronous=FULL fsyncs every commit (a 202 survives a
// power loss; group commit pays the fsync once a batch). Otherwise
// synchronous=NORMAL leaves the log's fsync to checkpoints and to the
// store's walSyncer (a commit survives a crash of the process as soon as it
// returns), and onCommit is called as each write transaction of the writer
// connection begins to commit, so the syncer knows when there is something
// to sync.
func openSQLite(dsn string, onCommit func()) (w, r *gorm.DB, path string, err error) {
	path = strings.TrimPrefix(dsn, "sqlite://")
	path = strings.TrimPrefix(path, "file:")
	params := url.Values{}
	params.Set("_journal_mode", "WAL")
	params.Set("_busy_timeout", "10000")
	params.Set("_synchronous", "FULL")
	if onCommit != nil {
		params.Set("_synchronous", "NORMAL")
	}
	params.Set("_foreign_keys", "on")
	params.Set("_txlock", "immediate")
	wd := sqlite.Open("file:" + path + "?" + params.Encode())
	if onCommit != nil {
		wd = sqlite.New(sqlite.Config{Conn: sql.OpenDB(hookedConnector{
			dsn: "file:" + path + "?" + params.Encode(),
			drv: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
				c.RegisterCommitHook(func() int { onCommit(); return 0 })
				return nil
			}},
		})})
	}
	if w, err = gorm.Open(wd, gormConfig(false)); err != nil {
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

// hookedConnector opens connections through drv (a driver with a
// ConnectHook) without registering it under a global name.
type hookedConnector struct {
	drv *sqlite3.SQLiteDriver
	dsn string
}

func (c hookedConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c hookedConnector) Driver() driver.Driver                        { return c.drv }
