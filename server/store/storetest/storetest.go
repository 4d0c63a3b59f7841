// Package storetest gives tests real databases: a temp SQLite file, and a
// fresh database on the throwaway PostgreSQL that scripts/test starts
// (OUTCRY_TEST_POSTGRES_URL). Test helper only; never imported by the
// binary.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// EnvPostgres names the variable holding the test PostgreSQL's URL (a
// superuser's, on any database: tests create their own).
const EnvPostgres = "OUTCRY_TEST_POSTGRES_URL"

// Dialect is one database a test table runs against.
type Dialect struct {
	Name string
	// URL is a fresh, empty database for t, removed when t ends.
	URL func(t testing.TB) string
}

// Dialects are SQLite and PostgreSQL, for tests that must hold on both.
func Dialects() []Dialect {
	return []Dialect{{Name: "sqlite", URL: SQLite}, {Name: "postgres", URL: Postgres}}
}

// SQLite is the path of a database file in t's temp dir.
func SQLite(t testing.TB) string {
	return filepath.Join(t.TempDir(), "outcry.db")
}

// Postgres creates an empty database on the test PostgreSQL and returns its
// URL; the database is dropped when t ends. Without OUTCRY_TEST_POSTGRES_URL
// the test is skipped, unless CI=true, where that is a failure: CI must
// run against a real PostgreSQL.
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set; scripts/test starts PostgreSQL", EnvPostgres)
		}
		t.Skipf("%s is not set (scripts/test starts PostgreSQL)", EnvPostgres)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("t_%d_%s", os.Getpid(), hex.EncodeToString(b[:]))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() { Drop(t, base, name) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Drop removes database name, closing its connections.
func Drop(t testing.TB, base, name string) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Error(err)
		return
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("dropping test database %s: %v", name, err)
	}
}

// Raw is a second, plain GORM handle on the database at dbURL, for what
// tests plant and check behind the store's back (placeholders are ? on
// both dialects). It is closed when t ends.
func Raw(t testing.TB, dbURL string) *gorm.DB {
	t.Helper()
	var d gorm.Dialector
	if strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://") {
		d = postgres.Open(dbURL)
	} else {
		d = sqlite.Open("file:" + strings.TrimPrefix(dbURL, "sqlite://") + "?_busy_timeout=10000&_foreign_keys=on")
	}
	db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard, NowFunc: func() time.Time { return time.Now().UTC() }})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(2)
	t.Cleanup(func() { _ = sqlDB.Close() })
	return db
}
