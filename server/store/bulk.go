package store

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm/clause"

	"github.com/outcry/outcry/models"
)

// Bulk loading, for `outcry seed` (load tests), never on a request path:
// many rows per statement and per transaction.

// BulkMode readies the writer connection for loading many rows: a page
// cache of up to 1 GiB, so the indexes being filled stay in memory instead
// of being read back from disk for every row, and no fsync per commit (a
// seed that fails is run again on a fresh file).
func (s *Store) BulkMode(ctx context.Context) error {
	if s.dialect != SQLite {
		return nil
	}
	if err := s.w.WithContext(ctx).Exec("PRAGMA cache_size = -1048576").Error; err != nil {
		return translate(err, "bulk mode")
	}
	return translate(s.w.WithContext(ctx).Exec("PRAGMA synchronous = OFF").Error, "bulk mode")
}

// InsertServices stores many new services in one transaction (no
// validation beyond the schema's: the caller generates them).
func (s *Store) InsertServices(ctx context.Context, list []models.Service) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gormDB) error {
		return tx.CreateInBatches(list, 500).Error
	})
	return translate(err, "services")
}

// rollupsPerInsert rows go in one INSERT (6 parameters each, well under
// SQLite's 32,766).
const rollupsPerInsert = 1000

// InsertRollupsBulk stores rollups in one transaction; rows already there
// are left alone. On SQLite it binds rollupsPerInsert rows per statement
// itself (GORM's batch builder costs more than SQLite). On PostgreSQL it
// sends them with COPY (seeding 39 M rollups with multi-row INSERTs was
// about 10 µs of the server's CPU and 5 µs of ours a row); should a row be
// there already (COPY cannot skip it), that transaction is undone and the
// rows go by INSERT … ON CONFLICT DO NOTHING instead.
func (s *Store) InsertRollupsBulk(ctx context.Context, rows []models.Rollup) error {
	if s.dialect != SQLite {
		err := s.copyRollups(ctx, rows)
		if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
			err = s.w.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, rollupsPerInsert).Error
		}
		return translate(err, "rollups")
	}
	db, err := s.w.DB()
	if err != nil {
		return translate(err, "rollups")
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return translate(err, "rollups")
	}
	defer func() { _ = tx.Rollback() }()
	stmt := func(n int) string {
		var b strings.Builder
		b.WriteString("INSERT OR IGNORE INTO rollups (service_id, bucket, region, problem, count, demo) VALUES ")
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?)")
		}
		return b.String()
	}
	full, err := tx.PrepareContext(ctx, stmt(rollupsPerInsert))
	if err != nil {
		return translate(err, "rollups")
	}
	defer full.Close()
	args := make([]any, 0, 6*rollupsPerInsert)
	for len(rows) > 0 {
		n := min(len(rows), rollupsPerInsert)
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r.ServiceID, r.Bucket, r.Region, r.Problem, r.Count, r.Demo)
		}
		if n == rollupsPerInsert {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, stmt(n), args...)
		}
		if err != nil {
			return translate(err, "rollups")
		}
		rows = rows[n:]
	}
	return translate(tx.Commit(), "rollups")
}

// rollupColumns are the columns copyRollups sends.
var rollupColumns = []string{"service_id", "bucket", "region", "problem", "count", "demo"}

// copyRollups sends rows to PostgreSQL with COPY, in one transaction.
func (s *Store) copyRollups(ctx context.Context, rows []models.Rollup) error {
	return s.pgxTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"rollups"}, rollupColumns, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := &rows[i]
			return []any{int64(r.ServiceID), r.Bucket, r.Region, r.Problem, r.Count, r.Demo}, nil
		}))
		return err
	})
}
