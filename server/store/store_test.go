package store_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/store/storetest"
)

func open(t testing.TB) *store.Store {
	t.Helper()
	return openURL(t, storetest.SQLite(t))
}

// openURL opens a store on dbURL and closes it when the test ends.
func openURL(t testing.TB, dbURL string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// eachDialect runs f against a fresh store on SQLite and on PostgreSQL; f
// also gets the database URL, for a raw handle.
func eachDialect(t *testing.T, f func(t *testing.T, st *store.Store, dbURL string)) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			u := d.URL(t)
			f(t, openURL(t, u), u)
		})
	}
}

func service(t testing.TB, st *store.Store, slug string) models.Service {
	t.Helper()
	s := models.Service{Slug: slug, Name: slug, Problems: []string{"login", "api"}}
	if err := st.CreateService(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	return s
}
