//go:build unix

package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// The commit thread commits the connection's open transaction (visible to
// another connection at once, and durable: synchronous=FULL is the
// connection's, the thread only runs its COMMIT), and reports SQLite's
// refusal (here: no transaction is open) as a result code, leaving the
// connection usable.
func TestThreadCommitterCommitsTheConnection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=FULL&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE t (a INTEGER)"); err != nil {
		t.Fatal(err)
	}
	tc, err := newThreadCommitter()
	if err != nil {
		t.Fatal(err)
	}
	defer tc.close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.Raw(func(dc any) error {
		sc := dc.(*sqlite3.SQLiteConn)
		h := sqliteHandle(sc)
		if h == nil {
			return errors.New("no C handle in the mattn connection (its field was renamed?)")
		}
		for i := 1; i <= 3; i++ {
			if _, err := sc.BeginTx(ctx, driver.TxOptions{}); err != nil {
				return err
			}
			if _, err := sc.ExecContext(ctx, "INSERT INTO t VALUES (1)", nil); err != nil {
				return err
			}
			if rc, err := tc.commit(h); err != nil || rc != 0 {
				t.Errorf("commit %d: rc %d, %v", i, rc, err)
			}
			if sc.AutoCommit() != true {
				t.Errorf("commit %d: the connection is still in a transaction", i)
			}
		}
		// Nothing open: SQLite refuses, the code comes back, nothing hangs.
		if rc, err := tc.commit(h); err != nil || rc != int(sqlite3.ErrError) {
			t.Errorf("COMMIT without a transaction: rc %d, %v; want %d", rc, err, sqlite3.ErrError)
		}
		return nil
	})
	_ = conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var n int
	if err := other.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 3 {
		t.Fatalf("another connection sees %d rows (%v); want 3", n, err)
	}
}
