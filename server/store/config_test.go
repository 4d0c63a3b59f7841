package store

import (
	"context"
	"log/slog"
	"testing"

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
