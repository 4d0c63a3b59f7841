package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/outcry/outcry/models"
)

// reportColumns are the columns a batch is copied into.
var reportColumns = []string{"id", "service_id", "problem", "region", "note", "reporter_hash", "network_hash", "counted", "minute", "created_at"}

// pgInserter takes a batch's IDs from the reports sequence in one query,
// then sends the rows with COPY, in one transaction: two round trips per
// batch, however large, and the IDs are known without trusting the order of
// RETURNING.
type pgInserter struct{ st *Store }

func (pi *pgInserter) insert(ctx context.Context, rows []*models.Report) error {
	return pi.st.pgxTx(ctx, func(tx pgx.Tx) error {
		ids, err := nextIDs(ctx, tx, "reports", len(rows))
		if err != nil {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"reports"}, reportColumns, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := rows[i]
			return []any{ids[i], int64(r.ServiceID), r.Problem, r.Region, r.Note, r.ReporterHash, r.NetworkHash, r.Counted, r.Minute, r.CreatedAt}, nil
		}))
		if err != nil {
			return err
		}
		for i, r := range rows {
			r.ID = uint64(ids[i])
		}
		return nil
	})
}

// pgxTx runs fn in one transaction on a connection of the writer's pool, as
// pgx itself (for COPY, which database/sql cannot send).
func (s *Store) pgxTx(ctx context.Context, fn func(pgx.Tx) error) error {
	db, err := s.w.DB()
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("store: the postgres driver is not pgx")
		}
		return pgx.BeginFunc(ctx, sc.Conn(), fn)
	})
}

// nextIDs draws n values from table's id sequence.
func nextIDs(ctx context.Context, tx pgx.Tx, table string, n int) ([]int64, error) {
	rs, err := tx.Query(ctx, "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)", table, n)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rs, pgx.RowTo[int64])
}

func (pi *pgInserter) close() {}
