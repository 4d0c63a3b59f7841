package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/handlers"
	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/hashkey"
	"github.com/outcry/outcry/server/ratelimit"
)

// flakyWriter fails the writes it is told to and stores the others.
type flakyWriter struct {
	mu     sync.Mutex
	fail   bool
	stored []models.Report
}

func (w *flakyWriter) Write(_ context.Context, r *models.Report) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail {
		return models.Errorf(models.CodeUnavailable, "too many reports at once; try again shortly")
	}
	r.ID = uint64(len(w.stored) + 1)
	w.stored = append(w.stored, *r)
	return nil
}

// oneServiceRouter serves the handlers for the service chatgpt (ID 3) with
// writer w and an in-process limiter, at the fixed time now.
func oneServiceRouter(t *testing.T, w handlers.ReportWriter, now time.Time) (*gin.Engine, *ratelimit.Local) {
	t.Helper()
	lim, err := ratelimit.NewLocal(ratelimit.Config{}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	svc := oneService{models.Service{ID: 3, Slug: "chatgpt", Name: "ChatGPT", Problems: []string{"login"}}}
	h := handlers.New(handlers.Deps{
		Writer: w, Limiter: lim, Status: svc, Catalog: svc, Incidents: svc,
		Identifier: handlers.NewIdentifier(hashkey.FromSecret([]byte("0123456789abcdef0123"))),
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now },
	})
	r := gin.New()
	h.Routes(r)
	return r, lim
}

type oneService struct{ svc models.Service }

func (o oneService) Lookup(slug string) (models.Service, bool)   { return o.svc, slug == o.svc.Slug }
func (oneService) Create(context.Context, *models.Service) error { return nil }
func (oneService) Update(context.Context, *models.Service) error { return nil }
func (oneService) Delete(context.Context, string) error          { return nil }
func (oneService) Status(string) (models.ServiceStatus, bool)    { return models.ServiceStatus{}, false }
func (oneService) All() []models.ServiceStatus                   { return nil }
func (oneService) Published() (uint64, time.Time)                { return 0, time.Time{} }
func (oneService) Incidents(context.Context, uint, int) ([]models.Incident, error) {
	return nil, nil
}
func (oneService) FindIncidents(context.Context, models.IncidentQuery) ([]models.ServiceIncident, error) {
	return nil, nil
}
func (oneService) IncidentEvents(context.Context, uint, int) ([]models.Event, error) {
	return nil, nil
}

// TestReportIsCountedOnlyOnceStored: a report the writer could not store
// answers 503 and is not counted (the live counters do not have it, and
// the reporter's marker is taken back), so the reporter's retry, once
// stored, is the one counted.
func TestReportIsCountedOnlyOnceStored(t *testing.T) {
	gin.SetMode(gin.TestMode)
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	w := &flakyWriter{fail: true}
	r, lim := oneServiceRouter(t, w, now)
	post := func() (int, bool) {
		req := httptest.NewRequest("POST", "/api/v1/services/chatgpt/reports", strings.NewReader(`{"problem":"login"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = "192.0.2.10:5555"
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		var out struct {
			Counted bool `json:"counted"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out.Counted
	}
	total := func() int {
		mc, _ := lim.Minutes(context.Background(), now.Add(-time.Hour), now.Add(time.Minute))
		n := 0
		for _, m := range mc {
			n += m.Services[3].Total
		}
		return n
	}

	if code, _ := post(); code != http.StatusServiceUnavailable {
		t.Fatalf("write failed, answered %d", code)
	}
	if n := total(); n != 0 {
		t.Fatalf("a report that was not stored is counted %d times", n)
	}
	w.fail = false
	code, counted := post()
	if code != http.StatusAccepted || !counted {
		t.Fatalf("the retry: %d counted=%v; want 202 and counted", code, counted)
	}
	if n := total(); n != 1 || len(w.stored) != 1 || !w.stored[0].Counted || w.stored[0].NetworkHash == "" {
		t.Fatalf("after the retry: counted %d, stored %+v", n, w.stored)
	}
}

// announcingWriter is flakyWriter with the group-commit announcements of
// store.Writer, counted.
type announcingWriter struct {
	flakyWriter
	announced, withdrawn, writtenAnnounced, plain int
}

func (w *announcingWriter) Announce() { w.mu.Lock(); w.announced++; w.mu.Unlock() }
func (w *announcingWriter) Withdraw() { w.mu.Lock(); w.withdrawn++; w.mu.Unlock() }
func (w *announcingWriter) Write(ctx context.Context, r *models.Report) error {
	w.mu.Lock()
	w.plain++
	w.mu.Unlock()
	return w.flakyWriter.Write(ctx, r)
}
func (w *announcingWriter) WriteAnnounced(ctx context.Context, r *models.Report) error {
	w.mu.Lock()
	w.writtenAnnounced++
	w.mu.Unlock()
	return w.flakyWriter.Write(ctx, r)
}

// TestEveryAnnouncementIsEnded: each report announced to the writer before
// its admission is then written or withdrawn, whatever its fate (stored,
// refused by the limiter, failed to store; by the API or the form), so the
// writer's batches never wait for a report that will not come.
func TestEveryAnnouncementIsEnded(t *testing.T) {
	gin.SetMode(gin.TestMode)
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	w := &announcingWriter{}
	r, _ := oneServiceRouter(t, w, now)
	codes := map[int]int{}
	post := func(addr, body string) {
		req := httptest.NewRequest("POST", "/api/v1/services/chatgpt/reports", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = addr + ":5555"
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		codes[rec.Code]++
	}
	form := func(addr string) {
		req := httptest.NewRequest("POST", "/s/chatgpt/report", strings.NewReader("problem=login"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = addr + ":5555"
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		codes[rec.Code]++
	}
	post("192.0.2.10", `{"problem":"login"}`) // stored
	post("192.0.2.11", `{"problem":"nope"}`)  // invalid: never announced
	for range 30 {                            // the limiter refuses some
		post("192.0.2.12", `{"problem":"login"}`)
	}
	form("192.0.2.13")
	w.mu.Lock()
	w.fail = true
	w.mu.Unlock()
	post("192.0.2.14", `{"problem":"login"}`) // not stored
	form("192.0.2.15")

	w.mu.Lock()
	defer w.mu.Unlock()
	if codes[http.StatusTooManyRequests] == 0 || codes[http.StatusAccepted] == 0 || codes[http.StatusServiceUnavailable] == 0 || codes[http.StatusUnprocessableEntity] == 0 {
		t.Fatalf("answers %v: want 202s, 422, 429s and 503", codes)
	}
	if w.plain != 0 {
		t.Fatalf("%d reports written without an announcement", w.plain)
	}
	if w.announced == 0 || w.announced != w.withdrawn+w.writtenAnnounced {
		t.Fatalf("announced %d, withdrawn %d, written %d: every announcement must end once", w.announced, w.withdrawn, w.writtenAnnounced)
	}
	if w.withdrawn == 0 {
		t.Fatal("no report refused after its announcement: the test misses the withdraw path")
	}
}
