package store

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/outcry/outcry/server/store/storetest"
)

// The writer and the readers each have their own GORM configuration: GORM
// keeps the connection pool in it, so a shared one pointed the writer's at
// the read-only pool (review finding 3).
func TestWriterAndReadersHaveTheirOwnConfig(t *testing.T) {
	st, err := Open(context.Background(), storetest.SQLite(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.w.Config == st.r.Config {
		t.Fatal("the writer and the readers share one *gorm.Config")
	}
	// Through the writer's own configured pool, a write works.
	if _, err := st.w.Config.ConnPool.ExecContext(context.Background(), "INSERT INTO settings (key, value) VALUES ('k', 'v')"); err != nil {
		t.Errorf("writing through the writer's configured pool: %v", err)
	}
	if _, err := st.r.Config.ConnPool.ExecContext(context.Background(), "INSERT INTO settings (key, value) VALUES ('k2', 'v')"); err == nil {
		t.Error("the readers' pool took a write; it should be query-only")
	}
}

// SQLite has one writer connection. With GORM's prepared-statement cache on
// it, a statement first seen by two writers at once deadlocked: the one
// outside a transaction registered the statement and waited for the
// connection, while the transaction holding that connection waited for the
// statement to be prepared. The writer handle therefore prepares nothing in
// GORM's cache; this replays the interleaving and must finish.
func TestSingleWriterDoesNotDeadlockOnANewStatement(t *testing.T) {
	st, err := Open(context.Background(), storetest.SQLite(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const q = "INSERT INTO settings (key, value) VALUES (?, ?)"
	tx := st.w.WithContext(ctx).Begin() // holds the only writer connection
	if tx.Error != nil {
		t.Fatal(tx.Error)
	}
	outside := make(chan error, 1)
	go func() { outside <- st.w.WithContext(ctx).Exec(q, "outside", "1").Error }()
	// Wait until the outside writer is waiting for the connection (with the
	// cache on, it has registered q by then).
	waitFor(t, ctx, func() bool {
		db, _ := st.w.DB()
		return db.Stats().WaitCount > 0
	})
	if err := tx.Exec(q, "inside", "1").Error; err != nil {
		t.Fatalf("the transaction's statement: %v", err)
	}
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if err := <-outside; err != nil {
		t.Fatalf("the writer outside the transaction: %v", err)
	}
	var n int64
	if err := st.r.WithContext(ctx).Table("settings").Where("key IN ?", []string{"inside", "outside"}).Count(&n).Error; err != nil || n != 2 {
		t.Fatalf("%d rows, %v", n, err)
	}
}

func waitFor(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("timed out waiting")
		case <-time.After(time.Millisecond):
		}
	}
}
