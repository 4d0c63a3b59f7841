package store

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store/storetest"
)

// TestReleaseDatabaseMigratesInPlace opens a database written by the last
// release (AutoMigrate, before versioned migrations; testdata/README.md):
// it migrates in place, keeps every row, ends with the schema a fresh
// database gets, and takes new writes.
func TestReleaseDatabaseMigratesInPlace(t *testing.T) {
	src, err := os.ReadFile("testdata/release-2026-12.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "outcry.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var logged strings.Builder
	st, err := Open(ctx, path, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !strings.Contains(logged.String(), "applied a schema migration") {
		t.Errorf("no migration logged: %s", logged.String())
	}
	want := map[string]int64{"services": 2, "reports": 40, "rollups": 7, "incidents": 1, "settings": 1,
		"detector_states": 1, "events": 2, "webhooks": 1, "deliveries": 2, "attempts": 2}
	for table, n := range want {
		var got int64
		if err := st.r.Table(table).Count(&got).Error; err != nil || got != n {
			t.Errorf("%s: %d rows (%v); want %d", table, got, err, n)
		}
	}
	secret, err := st.Setting(ctx, "reporter_hash_secret", func() string { return "a new secret" })
	if err != nil || secret != "release-secret-0123456789" {
		t.Errorf("reporter hash secret %q (%v); want the release's", secret, err)
	}
	svcs, err := st.Services(ctx)
	if err != nil || len(svcs) != 2 || svcs[0].Slug != "chatgpt" || svcs[0].ColdStart != 50 || len(svcs[0].Problems) != 2 {
		t.Fatalf("services %+v (%v)", svcs, err)
	}
	incs, err := st.Incidents(ctx, svcs[0].ID, 10)
	if err != nil || len(incs) != 1 || incs[0].ResolvedAt == nil || incs[0].Rule != "release rule" || incs[0].Window != 5*time.Minute {
		t.Errorf("incidents %+v (%v)", incs, err)
	}
	hooks, err := st.Webhooks(ctx)
	if err != nil || len(hooks) != 1 || hooks[0].URL != "http://127.0.0.1:9/hook" {
		t.Errorf("webhooks %+v (%v)", hooks, err)
	}
	ds, err := st.Deliveries(ctx, hooks[0].ID, 10)
	if err != nil || len(ds) != 2 || len(ds[0].Log) != 1 {
		t.Errorf("deliveries %+v (%v)", ds, err)
	}
	fresh, err := Open(ctx, storetest.SQLite(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if a, b := diff(schema(t, st.w), schema(t, fresh.w)); len(a)+len(b) > 0 {
		t.Errorf("the migrated release differs from a fresh database:\n  %s\nfresh:\n  %s", strings.Join(a, "\n  "), strings.Join(b, "\n  "))
	}
	v, err := st.SchemaVersion(ctx)
	fv, _ := fresh.SchemaVersion(ctx)
	if err != nil || v != fv || v < 2 {
		t.Errorf("schema version %d (%v), fresh %d", v, err, fv)
	}
	w := st.NewWriter(WriterOptions{})
	r := &models.Report{ServiceID: svcs[0].ID, Problem: "login", Region: "KR", ReporterHash: "0123456789abcdef0123456789abcdef", Minute: 60, CreatedAt: time.Now()}
	if err := w.Write(ctx, r); err != nil || r.ID != 41 {
		t.Errorf("a new report got id %d (%v); want 41", r.ID, err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Opening again finds nothing to migrate.
	logged.Reset()
	st2, err := Open(ctx, path, slog.New(slog.NewTextHandler(io.MultiWriter(&logged), nil)))
	if err != nil {
		t.Fatal(err)
	}
	_ = st2.Close()
	if logged.Len() != 0 {
		t.Errorf("a second open migrated again: %s", logged.String())
	}
}
