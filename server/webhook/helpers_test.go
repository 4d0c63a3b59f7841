package webhook

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
)

// testDB is a real store on a temp SQLite file, and a second handle on the
// same file for what tests plant and check behind the store's back.
type testDB struct {
	*store.Store
	raw *gorm.DB
}

// openDB opens a migrated store on a temp file.
func openDB(tb testing.TB) *testDB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "x.db")
	st, err := store.Open(context.Background(), path, quietLog())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	raw, err := gorm.Open(sqlite.Open("file:"+path+"?_busy_timeout=10000&_foreign_keys=on"),
		&gorm.Config{Logger: logger.Discard, NowFunc: func() time.Time { return time.Now().UTC() }})
	if err != nil {
		tb.Fatal(err)
	}
	sqlDB, err := raw.DB()
	if err != nil {
		tb.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(1)
	tb.Cleanup(func() { _ = sqlDB.Close() })
	return &testDB{Store: st, raw: raw}
}

// raws maps each test's Service to its raw handle.
var raws sync.Map

// rawOf is the raw handle on s's database.
func rawOf(s *Service) *gorm.DB {
	db, _ := raws.Load(s)
	return db.(*gorm.DB)
}

// fastBackoff keeps retries quick in tests.
func fastBackoff(int) time.Duration { return 10 * time.Millisecond }

// newService builds and migrates a service (AllowPrivate unless opts says
// otherwise through edit).
func newService(tb testing.TB, db *testDB, edit func(*Options)) *Service {
	tb.Helper()
	opts := Options{AllowPrivate: true, Backoff: fastBackoff, Log: quietLog(), PublicURL: "https://outcry.example"}
	if edit != nil {
		edit(&opts)
	}
	s := New(db.Store, opts)
	raws.Store(s, db.raw)
	return s
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// run starts the dispatcher and stops it when the test ends.
func run(tb testing.TB, s *Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx, s.st.(Outbox)); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			cctx, ccancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer ccancel()
			if err := s.Close(cctx); err != nil {
				tb.Errorf("close: %v", err)
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

// subscribe creates a subscription through the service.
func subscribe(tb testing.TB, s *Service, w models.Webhook) models.Webhook {
	tb.Helper()
	if err := s.Create(context.Background(), &w); err != nil {
		tb.Fatal(err)
	}
	return w
}

// commit inserts an incident event (as the detector's transaction would)
// and notifies the dispatcher.
func commit(tb testing.TB, s *Service, typ, slug string) models.Event {
	tb.Helper()
	ev, err := models.NewIncidentEvent(typ, testService(slug), testIncident(), "https://outcry.example", time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.st.AddEvent(context.Background(), &ev); err != nil {
		tb.Fatal(err)
	}
	s.Notify()
	return ev
}

func testService(slug string) models.Service {
	return models.Service{ID: 7, Slug: slug, Name: "Chat " + slug}
}

func testIncident() models.Incident {
	start := time.Date(2026, 11, 2, 14, 2, 0, 0, time.UTC)
	return models.Incident{
		ID: 42, ServiceID: 7, Scope: models.ScopeGlobal, Level: models.LevelOutage, StartedAt: start, PeakAt: start,
		Window: 5 * time.Minute, Expected: 12, Actual: 340, Ratio: 28.3, Significance: 41.2, Rule: "poisson p<1e-6 over 5m",
		TopProblems: []models.Share{{Key: "login", Count: 210, Percent: 61.8}},
		TopRegions:  []models.Share{{Key: "US", Count: 120, Percent: 35.3}},
	}
}

// delivery reads the one delivery of an event to a subscription, with its log.
func delivery(tb testing.TB, s *Service, eventID, webhookID string) (models.Delivery, bool) {
	tb.Helper()
	var d models.Delivery
	err := rawOf(s).Preload("Log", func(db *gorm.DB) *gorm.DB { return db.Order("n") }).
		Where("event_id = ? AND webhook_id = ?", eventID, webhookID).Take(&d).Error
	return d, err == nil
}

// newHangingServer never answers: a request waits until the client gives
// up or release is called (register release to run before the service
// stops, or Close waits for the attempt's timeout). arrived counts the
// requests that reached it.
func newHangingServer(tb testing.TB) (srv *httptest.Server, release func(), arrived func() int) {
	ch := make(chan struct{})
	var n atomic.Int32
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-ch:
		case <-r.Context().Done():
		}
	}))
	tb.Cleanup(srv.Close)
	var once sync.Once
	return srv, func() { once.Do(func() { close(ch) }) }, func() int { return int(n.Load()) }
}
