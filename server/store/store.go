// Package store keeps Outcry's durable data with GORM: SQLite (WAL, one
// writer) by default. Public methods own their transactions and turn driver
// errors into domain codes at this boundary.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/outcry/outcry/models"
)

// Store is the database. Writes go through one connection (SQLite allows
// one writer at a time; queueing in Go is cheaper than busy-waiting in
// SQLite), reads through a small pool that WAL lets run beside the writer.
type Store struct {
	w   *gorm.DB // the single writer connection
	r   *gorm.DB // readers
	log *slog.Logger

	insertStmts map[int]*sql.Stmt // the writer's prepared report inserts, by rows (used only by the writer goroutine)
}

// Open opens (creating if needed) the SQLite database at path and migrates it.
func Open(ctx context.Context, path string, log *slog.Logger) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	path = strings.TrimPrefix(path, "sqlite://")
	path = strings.TrimPrefix(path, "file:")
	// synchronous=FULL: a report answered 202 survives power loss, not only a
	// crash of the process; group commit pays the fsync once per batch.
	params := url.Values{}
	params.Set("_journal_mode", "WAL")
	params.Set("_busy_timeout", "10000")
	params.Set("_synchronous", "FULL")
	params.Set("_foreign_keys", "on")
	params.Set("_txlock", "immediate")
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	w, err := gorm.Open(sqlite.Open("file:"+path+"?"+params.Encode()), cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	wdb, err := w.DB()
	if err != nil {
		return nil, err
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxIdleTime(0)
	wdb.SetConnMaxLifetime(0)

	rp := url.Values{}
	rp.Set("_busy_timeout", "10000")
	rp.Set("_query_only", "true")
	r, err := gorm.Open(sqlite.Open("file:"+path+"?"+rp.Encode()), cfg)
	if err != nil {
		_ = wdb.Close()
		return nil, fmt.Errorf("store: open readers %s: %w", path, err)
	}
	rdb, err := r.DB()
	if err != nil {
		_ = wdb.Close()
		return nil, err
	}
	rdb.SetMaxOpenConns(4)
	rdb.SetMaxIdleConns(4)

	s := &Store{w: w, r: r, log: log}
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// migrate grows the schema. AutoMigrate is enough while the schema only
// grows; the first destructive change brings versioned migrations.
func (s *Store) migrate(ctx context.Context) error {
	err := s.w.WithContext(ctx).AutoMigrate(
		&models.Service{}, &models.Report{}, &models.Rollup{},
		&models.Incident{}, &models.Setting{}, &models.DetectorState{}, &models.Event{},
	)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// Ping checks that the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	db, err := s.r.DB()
	if err != nil {
		return err
	}
	return db.PingContext(ctx)
}

// Close closes every connection.
func (s *Store) Close() error {
	var errs []error
	for _, st := range s.insertStmts {
		errs = append(errs, st.Close())
	}
	for _, g := range []*gorm.DB{s.r, s.w} {
		if db, err := g.DB(); err == nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// DB is the writer handle, for packages that keep their own tables in the
// same database (webhook outbox) and must share its transactions.
func (s *Store) DB() *gorm.DB { return s.w }

// translate turns a driver error into a domain error.
func translate(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return models.Errorf(models.CodeNotFound, "%s not found", what)
	case errors.Is(err, gorm.ErrDuplicatedKey), isUniqueViolation(err):
		return models.Errorf(models.CodeConflict, "%s already exists", what)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return models.Wrap(models.CodeUnavailable, err, "the database did not answer in time")
	}
	return models.Wrap(models.CodeInternal, err, what)
}

func isUniqueViolation(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "duplicate key value")
}

type gormDB = gorm.DB
