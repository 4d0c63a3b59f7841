package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/outcry/outcry/models"
)

// insertChunk is how many rows one INSERT statement carries (9 parameters
// each, far below SQLite's limit of 32,766).
const insertChunk = 64

// insertReportSQL is the multi-row insert of n reports.
func insertReportSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO reports (service_id, problem, region, note, reporter_hash, network_hash, counted, minute, created_at) VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?)")
	}
	return b.String()
}

// sqliteInserter sends a batch in multi-row INSERTs of up to insertChunk
// rows, each statement prepared once per size on the single writer
// connection: one cgo call and one statement step per chunk instead of per
// row. GORM's batch builder costs more than SQLite itself here. Its
// statements belong to the writer goroutine, which closes them when it ends.
//
// IDs: the writer holds SQLite's only write lock for the whole transaction,
// and SQLite gives each row of a multi-row INSERT the next rowid in order,
// so a chunk's rows are last_insert_rowid()-n+1 … last_insert_rowid().
type sqliteInserter struct {
	st    *Store
	stmts map[int]*sql.Stmt // prepared inserts, by rows
}

func (si *sqliteInserter) insert(ctx context.Context, rows []*models.Report) error {
	db, err := si.st.w.DB()
	if err != nil {
		return err
	}
	// Prepare before BeginTx: the transaction holds the only connection.
	for _, n := range []int{min(len(rows), insertChunk), len(rows) % insertChunk} {
		if _, err := si.stmt(ctx, db, n); err != nil {
			return err
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	args := make([]any, 0, 9*insertChunk)
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), insertChunk)]
		rows = rows[len(chunk):]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r.ServiceID, r.Problem, r.Region, r.Note, r.ReporterHash, r.NetworkHash, r.Counted, r.Minute, r.CreatedAt)
		}
		res, err := tx.StmtContext(ctx, si.stmts[len(chunk)]).ExecContext(ctx, args...)
		if err != nil {
			_ = tx.Rollback()
			return err
		}
		last, err := res.LastInsertId()
		if err != nil {
			_ = tx.Rollback()
			return err
		}
		for i, r := range chunk {
			r.ID = uint64(last - int64(len(chunk)-1-i))
		}
	}
	return tx.Commit()
}

// stmt is the prepared insert of n rows.
func (si *sqliteInserter) stmt(ctx context.Context, db *sql.DB, n int) (*sql.Stmt, error) {
	if st, ok := si.stmts[n]; ok || n == 0 {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, insertReportSQL(n))
	if err != nil {
		return nil, err
	}
	if si.stmts == nil {
		si.stmts = make(map[int]*sql.Stmt)
	}
	si.stmts[n] = st
	return st, nil
}

func (si *sqliteInserter) close() {
	for _, st := range si.stmts {
		_ = st.Close()
	}
	si.stmts = nil
}
