package store

import (
	"fmt"
	"net/url"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// openPostgres connects to dsn (postgres://user:pass@host:port/db?…): a
// writer pool and a reader pool, each with its own GORM configuration.
// PostgreSQL runs writers side by side, so the writer pool has more than one
// connection: the report writer, the detector, the dispatcher and admin
// changes do not queue behind each other.
func openPostgres(dsn string) (w, r *gorm.DB, err error) {
	where := redact(dsn)
	dsn = withIdleTimeout(dsn)
	if w, err = gorm.Open(postgres.Open(dsn), gormConfig(false)); err != nil {
		return nil, nil, fmt.Errorf("store: connect to %s: %w", where, err)
	}
	wdb, err := w.DB()
	if err != nil {
		return nil, nil, err
	}
	wdb.SetMaxOpenConns(12)
	wdb.SetMaxIdleConns(12)
	wdb.SetConnMaxIdleTime(5 * time.Minute)
	if r, err = gorm.Open(postgres.Open(dsn), gormConfig(true)); err != nil {
		_ = wdb.Close()
		return nil, nil, fmt.Errorf("store: connect readers to %s: %w", where, err)
	}
	rdb, err := r.DB()
	if err != nil {
		_ = wdb.Close()
		return nil, nil, err
	}
	rdb.SetMaxOpenConns(8)
	rdb.SetMaxIdleConns(8)
	rdb.SetConnMaxIdleTime(5 * time.Minute)
	return w, r, nil
}

// redact is a database URL without its password, for messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the database"
	}
	return u.Redacted()
}

// withIdleTimeout asks the server to end a transaction left idle for 10 s
// (unless the URL says otherwise): a replica frozen mid-transaction (a
// SIGSTOP, a VM pause) must not hold the leader lease's row lock, and so
// block the takeover, for longer than that.
func withIdleTimeout(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Get("idle_in_transaction_session_timeout") == "" {
		q.Set("idle_in_transaction_session_timeout", "10000")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
