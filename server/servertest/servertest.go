// Package servertest starts a whole Outcry app for tests: a temp SQLite file,
// the real Redis from scripts/test (OUTCRY_TEST_REDIS_URL, with a unique key
// prefix) or in-process limits, and a listener on a free loopback port.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/store"
)

// AdminToken is the admin token every test app uses.
const AdminToken = "test-admin-token-0123456789"

// App is a running app.
type App struct {
	*server.App
	URL    string // http://127.0.0.1:PORT
	DBPath string
	Config server.Config
	cancel context.CancelFunc
	done   chan error
}

var seq atomic.Int64

// Env is the environment a test app starts with; tests may change it before
// Start through the env argument.
func Env(t testing.TB) map[string]string {
	dir := t.TempDir()
	env := map[string]string{
		"OUTCRY_ADDR":                   "127.0.0.1:0",
		"OUTCRY_DATABASE_URL":           filepath.Join(dir, "outcry.db"),
		"OUTCRY_ADMIN_TOKEN":            AdminToken,
		"OUTCRY_DEMO":                   "false",
		"OUTCRY_LOG_LEVEL":              "warn",
		"OUTCRY_LOG_FORMAT":             "text",
		"OUTCRY_HASH_SECRET":            "test-hash-secret-0123456789",
		"OUTCRY_REDIS_PREFIX":           fmt.Sprintf("t%d-%d-%d:", os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1)),
		"OUTCRY_WEBHOOK_ALLOW_PRIVATE":  "true",
		"OUTCRY_OFFICIAL_ALLOW_PRIVATE": "true",
	}
	if u := os.Getenv("OUTCRY_TEST_REDIS_URL"); u != "" {
		env["OUTCRY_REDIS_URL"] = u
	} else if os.Getenv("CI") == "true" {
		// CI must test with Redis; without it every test here would pass
		// on the in-process limiter and say nothing about Redis.
		t.Fatal("CI=true but OUTCRY_TEST_REDIS_URL is not set: run the suite with scripts/test, which starts Redis")
	}
	return env
}

// Start starts an app with Env(t) changed by edit (may be nil) and stops it
// when the test ends.
func Start(t testing.TB, edit func(env map[string]string), opts ...func(*server.Options)) *App {
	t.Helper()
	env := Env(t)
	if edit != nil {
		edit(env)
	}
	return StartEnv(t, env, opts...)
}

// StartEnv starts an app with exactly env.
func StartEnv(t testing.TB, env map[string]string, opts ...func(*server.Options)) *App {
	t.Helper()
	gin.SetMode(gin.TestMode)
	cfg, err := server.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	o := server.Options{Listener: ln, Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: cfg.LogLevel}))}
	for _, f := range opts {
		f(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, err := server.New(ctx, cfg, o)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	a := &App{App: app, URL: "http://" + app.Addr(), DBPath: cfg.DatabaseURL, Config: cfg, cancel: cancel, done: make(chan error, 1)}
	go func() { a.done <- app.Run(ctx) }()
	t.Cleanup(func() { _ = a.Stop() })
	return a
}

// Stop shuts the app down (as SIGTERM would) and waits for it.
func (a *App) Stop() error {
	if a.cancel == nil {
		return nil
	}
	a.cancel()
	a.cancel = nil
	select {
	case err := <-a.done:
		return err
	case <-time.After(30 * time.Second):
		return fmt.Errorf("the app did not stop within 30 s")
	}
}

// WaitTicks waits until the detector has completed n more ticks (each one
// judging every service at the app's clock), or fails the test after 10 s.
func (a *App) WaitTicks(t testing.TB, n int) {
	t.Helper()
	want := a.DetectorTicks() + uint64(n)
	testkit.Eventually(t, 10*time.Second, fmt.Sprintf("%d detector ticks", n), func() bool { return a.DetectorTicks() >= want })
}

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it cannot.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response %d is not JSON: %v: %s", r.Status, err, r.Body)
	}
}

// Do sends a request. body may be nil, a string, []byte, or a value sent as
// JSON. headers are pairs: "Content-Type", "application/json", ….
func (a *App) Do(t testing.TB, method, path string, body any, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
		headers = append([]string{"Content-Type", "application/json"}, headers...)
	}
	req, err := http.NewRequest(method, a.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Admin sends a request with the admin token.
func (a *App) Admin(t testing.TB, method, path string, body any) Response {
	t.Helper()
	return a.Do(t, method, path, body, "Authorization", "Bearer "+AdminToken)
}

// CreateService creates a service through the admin API.
func (a *App) CreateService(t testing.TB, slug string, problems ...string) {
	t.Helper()
	if len(problems) == 0 {
		problems = []string{"login", "app", "website", "api"}
	}
	r := a.Admin(t, "POST", "/api/v1/services", map[string]any{"slug": slug, "name": strings.ToUpper(slug[:1]) + slug[1:], "problems": problems})
	if r.Status != http.StatusCreated {
		t.Fatalf("creating %s: %d %s", slug, r.Status, r.Body)
	}
}

// Report sends a report from addr (through X-Forwarded-For, trusted from
// loopback) and returns the response.
func (a *App) Report(t testing.TB, slug, addr string, body any) Response {
	t.Helper()
	return a.Do(t, "POST", "/api/v1/services/"+slug+"/reports", body, "X-Forwarded-For", addr)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// OpenStore opens a stopped app's database through the store (to plant
// history or incidents behind the detector's back, as tests of what it
// restores do) and returns it with the services by slug. Close it before
// the app starts again.
func OpenStore(t testing.TB, dbPath string) (*store.Store, map[string]models.Service) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	services, err := st.Services(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bySlug := make(map[string]models.Service, len(services))
	for _, s := range services {
		bySlug[s.Slug] = s
	}
	return st, bySlug
}
