// Package store keeps Outcry's durable data with GORM: SQLite (WAL, one
// writer) by default, PostgreSQL when the database URL says postgres://.
// All of Outcry's SQL lives here; consumers declare the interfaces they need
// and this package implements them. Public methods own their transactions
// and turn driver errors into domain codes at this boundary.
package store

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/outcry/outcry/models"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Store is the database. Writes go through w, reads through r: on SQLite w
// is the one writer connection (SQLite allows one writer at a time;
// queueing in Go is cheaper than busy-waiting in SQLite) and r a small pool
// that WAL lets run beside it; on PostgreSQL both are pools.
type Store struct {
	w       *gorm.DB
	r       *gorm.DB
	dialect string
	log     *slog.Logger
	bodies  sync.Pool // *bodyBuffer: published statuses' bodies (statusRows)
	rollups rollupPrints
	wal     *walSyncer // SQLite with Options.SyncEvery > 0
}

// IsPostgres reports whether url names a PostgreSQL database
// (postgres:// or postgresql://); anything else is a SQLite file.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Open opens (creating if needed) the database at url and migrates it to
// the newest schema, with the default Options.
func Open(ctx context.Context, url string, log *slog.Logger) (*Store, error) {
	return OpenWith(ctx, url, log, Options{SyncEvery: DefaultSyncEvery})
}

// OpenWith is Open with o.
func OpenWith(ctx context.Context, url string, log *slog.Logger, o Options) (*Store, error) {
	s, err := open(url, log, o)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// open connects without migrating.
func open(url string, log *slog.Logger, o Options) (*Store, error) {
	if url == "" {
		return nil, errors.New("store: empty database URL")
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Store{log: log}
	var err error
	if IsPostgres(url) {
		s.dialect = Postgres
		s.w, s.r, err = openPostgres(url)
	} else {
		s.dialect = SQLite
		var path string
		var onCommit func()
		if o.SyncEvery > 0 {
			s.wal = newWALSyncer(o.SyncEvery, log)
			onCommit = s.wal.committing
		}
		s.w, s.r, path, err = openSQLite(url, onCommit)
		if err == nil && s.wal != nil {
			s.wal.start(path)
		}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// gormConfig is a fresh configuration: each gorm.Open gets its own, since
// GORM keeps the connection pool, callbacks and statement cache in it.
//
// Only readers use GORM's prepared-statement cache. On a writer pool that
// can be exhausted (SQLite's one connection) the cache deadlocks: a writer
// outside a transaction registers a new statement and waits for the
// connection, while the transaction holding it waits for that statement to
// be prepared (TestSingleWriterDoesNotDeadlockOnANewStatement). The hot
// write, the report insert, keeps its own prepared statements (Writer), and
// pgx caches statements per connection by itself.
func gormConfig(reader bool) *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            reader,
		TranslateError:         true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
}

// Dialect is SQLite or Postgres.
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers (for /readyz), and on SQLite with
// a syncer that its last sync to disk worked.
func (s *Store) Ping(ctx context.Context) error {
	if s.wal != nil {
		if err := s.wal.err(); err != nil {
			return err
		}
	}
	db, err := s.r.DB()
	if err != nil {
		return err
	}
	return db.PingContext(ctx)
}

// WALSyncs counts the syncer's fsyncs of SQLite's write-ahead log and its
// failures (both 0 on PostgreSQL, or with Options.SyncEvery 0).
func (s *Store) WALSyncs() (syncs, failures uint64) {
	if s.wal == nil {
		return 0, 0
	}
	return s.wal.syncs.Load(), s.wal.failures.Load()
}

// Close closes every connection. Close writers first: a writer's last batch
// needs the database.
func (s *Store) Close() error {
	var errs []error
	if s.wal != nil {
		s.wal.close()
		errs = append(errs, s.wal.err())
	}
	for _, g := range []*gorm.DB{s.r, s.w} {
		if g == nil {
			continue
		}
		if db, err := g.DB(); err == nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// translate turns a driver error into a domain error.
func translate(err error, what string) error {
	var me *models.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &me):
		return err
	case errors.Is(err, gorm.ErrRecordNotFound):
		return models.Errorf(models.CodeNotFound, "%s not found", what)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return models.Errorf(models.CodeConflict, "%s already exists", what)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return models.Wrap(models.CodeUnavailable, err, "the database did not answer in time")
	}
	return models.Wrap(models.CodeInternal, err, what)
}

type gormDB = gorm.DB
