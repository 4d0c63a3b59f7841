package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

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
// row. GORM's batch builder costs more than SQLite itself here. It works on
// the driver connection itself (database/sql's conversions and locks cost
// more than the insert), and commits on a thread of its own
// (threadCommitter): the COMMIT's fsync then holds no P of the Go
// scheduler. Its statements belong to the writer goroutine, which closes
// them when it ends.
//
// IDs: the writer holds SQLite's only write lock for the whole transaction,
// and SQLite gives each row of a multi-row INSERT the next rowid in order,
// so a chunk's rows are last_insert_rowid()-n+1 … last_insert_rowid().
type sqliteInserter struct {
	st    *Store
	conn  *sqlite3.SQLiteConn // the connection stmts were prepared on
	stmts map[int]driver.Stmt // prepared inserts, by rows
	args  []driver.NamedValue
	tc    *threadCommitter // nil until the first commit, or if it cannot start
	noTC  bool             // the commit thread could not start: commit in place
}

func (si *sqliteInserter) insert(ctx context.Context, rows []*models.Report) error {
	db, err := si.st.w.DB()
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("store: the writer's connection is a %T, not SQLite's", dc)
		}
		return si.insertOn(ctx, sc, rows)
	})
}

func (si *sqliteInserter) insertOn(ctx context.Context, sc *sqlite3.SQLiteConn, rows []*models.Report) error {
	if sc != si.conn {
		si.closeStmts()
		si.conn = sc
	}
	// Prepare before BEGIN, as before: a failed prepare leaves no transaction.
	for _, n := range []int{min(len(rows), insertChunk), len(rows) % insertChunk} {
		if _, err := si.stmt(ctx, sc, n); err != nil {
			return err
		}
	}
	tx, err := sc.BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		return err
	}
	if si.args == nil {
		si.args = make([]driver.NamedValue, 9*insertChunk)
		for i := range si.args {
			si.args[i].Ordinal = i + 1
		}
	}
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), insertChunk)]
		rows = rows[len(chunk):]
		args := si.args[:9*len(chunk)]
		for i, r := range chunk {
			a := args[9*i : 9*i+9]
			// The values database/sql would have converted them to.
			a[0].Value, a[1].Value, a[2].Value = int64(r.ServiceID), r.Problem, r.Region
			a[3].Value, a[4].Value, a[5].Value = r.Note, r.ReporterHash, r.NetworkHash
			a[6].Value, a[7].Value, a[8].Value = r.Counted, r.Minute, r.CreatedAt
		}
		res, err := si.stmts[len(chunk)].(driver.StmtExecContext).ExecContext(ctx, args)
		for i := range args {
			args[i].Value = nil // no report kept alive until the next batch
		}
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
	return si.commit(sc, tx)
}

// commit commits tx on the commit thread, or in place if there is none.
func (si *sqliteInserter) commit(sc *sqlite3.SQLiteConn, tx driver.Tx) error {
	h := sqliteHandle(sc)
	if h == nil || !si.startCommitter() {
		return tx.Commit()
	}
	rc, err := si.tc.commit(h)
	if err != nil {
		// The thread's answer was lost (its pipe closed under it): whether
		// it committed is unknown, and it may still hold the connection.
		// Refuse the batch; nothing is acknowledged.
		si.noTC = true
		return err
	}
	if rc == 0 {
		return nil
	}
	// As mattn's Tx.Commit: SQLite may leave the transaction open after a
	// failed COMMIT (SQLITE_BUSY); ROLLBACK is harmless if it did not.
	_ = tx.Rollback()
	return sqlite3.Error{Code: sqlite3.ErrNo(rc & 0xff), ExtendedCode: sqlite3.ErrNoExtended(rc)}
}

func (si *sqliteInserter) startCommitter() bool {
	if si.tc != nil {
		return true
	}
	if si.noTC {
		return false
	}
	tc, err := newThreadCommitter()
	if err != nil {
		si.noTC = true
		si.st.log.Warn("the report writer commits on its own goroutine", "err", err)
		return false
	}
	si.tc = tc
	return true
}

// stmt is the prepared insert of n rows on sc.
func (si *sqliteInserter) stmt(ctx context.Context, sc *sqlite3.SQLiteConn, n int) (driver.Stmt, error) {
	if st, ok := si.stmts[n]; ok || n == 0 {
		return st, nil
	}
	st, err := sc.PrepareContext(ctx, insertReportSQL(n))
	if err != nil {
		return nil, err
	}
	if si.stmts == nil {
		si.stmts = make(map[int]driver.Stmt)
	}
	si.stmts[n] = st
	return st, nil
}

func (si *sqliteInserter) closeStmts() {
	for _, st := range si.stmts {
		_ = st.Close()
	}
	si.stmts = nil
}

// close finalizes the statements on their connection (inside Raw, so no
// other user of the connection runs meanwhile) and stops the commit thread.
func (si *sqliteInserter) close() {
	if si.stmts != nil {
		if db, err := si.st.w.DB(); err == nil {
			if conn, err := db.Conn(context.Background()); err == nil {
				_ = conn.Raw(func(dc any) error {
					if dc == any(si.conn) {
						si.closeStmts()
					}
					return nil
				})
				_ = conn.Close()
			}
		}
		si.stmts = nil // a connection that is gone took its statements with it
	}
	if si.tc != nil {
		si.tc.close()
		si.tc = nil
	}
}
