package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/store/storetest"
)

// tables are what `outcry migrate` copies, with a column that identifies
// rows, to compare source and target.
var tables = map[string]string{
	"services": "id", "settings": "key", "webhooks": "id", "incidents": "id", "detector_states": "service_id",
	"rollups": "bucket", "reports": "id", "events": "id", "deliveries": "id", "attempts": "id",
}

// `outcry migrate` copies a whole SQLite deployment (the release's test
// database plus enough reports for several chunks) into PostgreSQL: every
// row of every table, identical, sequences past the copied ids; running it
// again changes nothing but carries what changed; after an interrupted
// copy it fills in what is missing.
func TestMigrateCopiesADeploymentIntoPostgres(t *testing.T) {
	ctx := context.Background()
	dst := storetest.Postgres(t)
	b, err := os.ReadFile("../server/store/testdata/release-2026-12.db")
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "outcry.db")
	if err := os.WriteFile(src, b, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, src, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	w := st.NewWriter(store.WriterOptions{})
	now := time.Now().UTC()
	for i := 0; i < 4500; i++ { // three chunks and a bit
		r := &models.Report{ServiceID: 1, Problem: "login", Region: "DE", ReporterHash: "0123456789abcdef0123456789abcdef",
			Counted: i%2 == 0, Minute: now.Unix() / 60 * 60, CreatedAt: now, Note: "n"}
		if err := w.Write(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()

	run := func() string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := Main(ctx, []string{"migrate", "--from", src, "--to", dst}, func(string) string { return "" }, nil, &out, &errOut); code != 0 {
			t.Fatalf("migrate exited %d: %s", code, errOut.String())
		}
		return out.String()
	}
	out := run()
	if !strings.Contains(out, "reports") || !strings.Contains(out, "of       4540 rows (100.0%)") || !strings.Contains(out, "done") {
		t.Errorf("progress output:\n%s", out)
	}
	same := func(when string) {
		t.Helper()
		s, d := storetest.Raw(t, src), storetest.Raw(t, dst)
		for table, col := range tables {
			var a, b []string
			if err := s.Table(table).Pluck("CAST("+col+" AS TEXT)", &a).Error; err != nil {
				t.Fatal(err)
			}
			d.Table(table).Pluck("CAST("+col+" AS TEXT)", &b)
			slices.Sort(a)
			slices.Sort(b)
			if len(a) == 0 || strings.Join(a, ",") != strings.Join(b, ",") {
				i := 0
				for i < min(len(a), len(b)) && a[i] == b[i] {
					i++
				}
				t.Errorf("%s: %s has %d rows in SQLite, %d in PostgreSQL; first difference at %d: %v / %v", when, table, len(a), len(b), i, a[i:min(i+3, len(a))], b[i:min(i+3, len(b))])
			}
		}
	}
	same("after the copy")
	pg, err := store.Open(ctx, dst, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	secret, _ := pg.Setting(ctx, "reporter_hash_secret", func() string { return "new" })
	svcs, _ := pg.Services(ctx)
	incs, _ := pg.Incidents(ctx, 1, 5)
	hooks, _ := pg.Webhooks(ctx)
	if secret != "release-secret-0123456789" || len(svcs) != 2 || svcs[0].ColdStart != 50 || len(incs) != 1 ||
		incs[0].Window != 5*time.Minute || incs[0].TopProblems[0].Key != "login" || len(hooks) != 1 || !strings.HasPrefix(hooks[0].Secret, "whsec_") {
		t.Errorf("copied values: secret %q, services %+v, incidents %+v, webhooks %+v", secret, svcs, incs, hooks)
	}
	ds, err := pg.Deliveries(ctx, hooks[0].ID, 10)
	if err != nil || len(ds) != 2 || len(ds[0].Log) != 1 {
		t.Errorf("deliveries %+v (%v)", ds, err)
	}
	// The sequences are past the copied ids.
	svc := models.Service{Slug: "new", Name: "New", Problems: []string{"x"}}
	if err := pg.CreateService(ctx, &svc); err != nil || svc.ID != 3 {
		t.Errorf("a new service got id %d (%v); want 3", svc.ID, err)
	}
	pw := pg.NewWriter(store.WriterOptions{})
	r := &models.Report{ServiceID: 1, Problem: "login", Region: "DE", ReporterHash: "0123456789abcdef0123456789abcdef", CreatedAt: now}
	if err := pw.Write(ctx, r); err != nil || r.ID != 4541 {
		t.Errorf("a new report got id %d (%v); want 4541", r.ID, err)
	}
	_ = pw.Close(ctx)
	if err := pg.DeleteService(ctx, "new"); err != nil {
		t.Fatal(err)
	}
	raw := storetest.Raw(t, dst)
	raw.Exec("DELETE FROM reports WHERE id = 4541")

	// Interrupted: the target lost its newest reports, an attempt and a
	// delivery; meanwhile the source's incident changed. A re-run fills in
	// and carries the change.
	raw.Exec("DELETE FROM reports WHERE id > 3000")
	raw.Exec("DELETE FROM attempts WHERE id = 2")
	raw.Exec("UPDATE incidents SET rule = 'stale'")
	sraw := storetest.Raw(t, src)
	sraw.Exec("UPDATE incidents SET rule = 'changed at the source'")
	run()
	same("after the re-run")
	var rule string
	raw.Table("incidents").Select("rule").Scan(&rule)
	if rule != "changed at the source" {
		t.Errorf("the re-run left the incident's rule %q", rule)
	}
}
