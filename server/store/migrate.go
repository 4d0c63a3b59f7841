package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds the versioned schema, one directory per dialect
// (migrations/sqlite, migrations/postgres), each file NNNNN_name.sql with
// goose annotations. Every schema change is a new file in both.
//
//go:embed migrations
var migrations embed.FS

// migrationLockID is the PostgreSQL advisory lock that makes replicas
// starting together migrate one at a time ("outcry" in ASCII).
const migrationLockID = 0x6f7574637279

// migrate brings the schema to the newest version. On PostgreSQL it holds a
// session advisory lock meanwhile, so replicas starting together migrate
// once: the others wait, then find nothing left to do. A SQLite file has
// one process.
func (s *Store) migrate(ctx context.Context) error {
	p, err := s.migrator()
	if err != nil {
		return err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range res {
		s.log.Info("applied a schema migration", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	return nil
}

// SchemaVersion is the newest migration applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	p, err := s.migrator()
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

func (s *Store) migrator() (*goose.Provider, error) {
	db, err := s.w.DB()
	if err != nil {
		return nil, err
	}
	dir, err := fs.Sub(migrations, "migrations/"+s.dialect)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger())}
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
		// Retry the lock every second for up to five minutes: a replica
		// waits while another one migrates.
		l, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(l))
	}
	return goose.NewProvider(dialect, db, dir, opts...)
}
