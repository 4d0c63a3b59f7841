package store_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
)

func open(t testing.TB) *store.Store {
	t.Helper()
	st, _ := openAt(t)
	return st
}

// openAt opens a store on a fresh file and also returns its path, for tests
// that read the file directly.
func openAt(t testing.TB) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "outcry.db")
	st, err := store.Open(context.Background(), path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, path
}

func service(t testing.TB, st *store.Store, slug string) models.Service {
	t.Helper()
	s := models.Service{Slug: slug, Name: slug, Problems: []string{"login", "api"}}
	if err := st.CreateService(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	return s
}
