package store

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store/storetest"
)

// gormModels are every table the store keeps, as GORM models. A field or
// index added to one of them needs a migration file in both dialects;
// TestMigrationsMatchModels fails until it has one.
var gormModels = []any{
	&models.Service{}, &models.Report{}, &models.Rollup{}, &models.Incident{}, &models.Setting{},
	&models.DetectorState{}, &models.Event{}, &models.Webhook{}, &models.Delivery{}, &models.Attempt{},
	&leaseRow{}, &statusRow{}, &models.ModelState{}, &models.OfficialSource{}, &models.OfficialIncident{},
}

// schema describes a database's tables (columns with type, nullability,
// key and default; indexes with columns and uniqueness), one line each,
// leaving out the migration tool's own tables.
func schema(t testing.TB, db *gorm.DB) []string {
	t.Helper()
	m := db.Migrator()
	tables, err := m.GetTables()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tb := range tables {
		if tb == "goose_db_version" || tb == "sqlite_sequence" {
			continue
		}
		out = append(out, "table "+tb)
		cols, err := m.ColumnTypes(tb)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			null, _ := c.Nullable()
			pk, _ := c.PrimaryKey()
			def, _ := c.DefaultValue()
			n, _ := c.Length()
			out = append(out, fmt.Sprintf("column %s.%s %s(%d) null=%v pk=%v default=%q",
				tb, c.Name(), strings.ToLower(c.DatabaseTypeName()), n, null, pk, def))
		}
		idx, err := m.GetIndexes(tb)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range idx {
			uniq, _ := i.Unique()
			pk, _ := i.PrimaryKey()
			out = append(out, fmt.Sprintf("index %s.%s %v unique=%v pk=%v", tb, i.Name(), i.Columns(), uniq, pk))
		}
	}
	slices.Sort(out)
	return out
}

// diff is the lines only in a and only in b.
func diff(a, b []string) (onlyA, onlyB []string) {
	for _, l := range a {
		if !slices.Contains(b, l) {
			onlyA = append(onlyA, l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			onlyB = append(onlyB, l)
		}
	}
	return onlyA, onlyB
}

// TestMigrationsMatchModels catches a model change without a migration: the
// schema the migrations build must be the one GORM would build from the
// models, on both dialects.
func TestMigrationsMatchModels(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			st, err := Open(context.Background(), d.URL(t), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			scratch := storetest.Raw(t, d.URL(t))
			if err := scratch.AutoMigrate(gormModels...); err != nil {
				t.Fatal(err)
			}
			migrated, auto := schema(t, st.w), schema(t, scratch)
			if len(auto) < 20 {
				t.Fatalf("the models' schema has %d lines; the description is broken", len(auto))
			}
			if onlyM, onlyA := diff(migrated, auto); len(onlyM)+len(onlyA) > 0 {
				t.Errorf("the migrations and the models disagree; add a migration in server/store/migrations/{sqlite,postgres}.\n"+
					"only migrated:\n  %s\nonly from the models:\n  %s", strings.Join(onlyM, "\n  "), strings.Join(onlyA, "\n  "))
			}
		})
	}
}
