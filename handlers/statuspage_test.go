package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/handlers"
	"github.com/outcry/outcry/models"
)

type failingRecent struct{}

func (failingRecent) RecentIncidents(context.Context, int) ([]models.Incident, error) {
	return nil, errors.New("database is gone")
}

// TestStatuspageMappingAndBounds: the crowd statuses map to Statuspage's
// component statuses, impacts and indicators; the catalogue page is bounded
// whatever the catalogue's size, services with problems first; a failing
// database breaks incidents.json alone, in the one error shape.
func TestStatuspageMappingAndBounds(t *testing.T) {
	w, r := pgServerWith(t, func(d *handlers.Deps) { d.Recent = failingRecent{} })
	for i := range 400 {
		w.set(pgStatus(uint(100+i), fmt.Sprintf("svc-%03d", i), fmt.Sprintf("Service %d", i), models.LevelOK, i%5))
	}
	regional := pgStatus(4, "gemini", "Gemini", models.LevelWarning, 40)
	regional.Incident = &models.Incident{ID: 9, Level: models.LevelOutage, Scope: "KR", StartedAt: pgNow.Add(-time.Hour), UpdatedAt: pgNow,
		Window: 15 * time.Minute, Expected: 2, Actual: 40, Ratio: 20, TopProblems: []models.Share{{Key: "login", Count: 40, Percent: 100}}}
	w.set(regional)

	get := func(path string, v any) {
		t.Helper()
		rec := pgGet(r, "GET", path)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			t.Fatal(err)
		}
	}
	var comps struct {
		Components []handlers.SPComponent `json:"components"`
	}
	get("/api/v2/components.json", &comps)
	if len(comps.Components) != 250 {
		t.Fatalf("%d components of 403 services, want the cap of 250", len(comps.Components))
	}
	want := []struct{ id, status string }{{"sora", "major_outage"}, {"gemini", "partial_outage"}, {"evil", "degraded_performance"}, {"chatgpt", "operational"}}
	for i, w := range want[:3] {
		if c := comps.Components[i]; c.ID != w.id || c.Status != w.status || c.Position != i+1 {
			t.Errorf("component %d: %s %s at %d, want %s %s", i, c.ID, c.Status, c.Position, w.id, w.status)
		}
	}
	var unres struct {
		Incidents []handlers.SPIncident `json:"incidents"`
	}
	get("/api/v2/incidents/unresolved.json", &unres)
	if len(unres.Incidents) != 2 || unres.Incidents[0].Impact != "critical" || unres.Incidents[1].Impact != "major" ||
		unres.Incidents[1].Name != "Users in KR report problems with Gemini" ||
		!strings.Contains(unres.Incidents[1].IncidentUpdates[0].Body, "40 reports of problems in 15 minutes from KR, where about 2 are usual") {
		t.Errorf("unresolved: %+v", unres.Incidents)
	}
	var st struct {
		Status handlers.SPStatus `json:"status"`
	}
	get("/api/v2/status.json", &st)
	if st.Status.Indicator != "major" {
		t.Errorf("one service in an outage: indicator %q, want major", st.Status.Indicator)
	}
	for _, slug := range []string{"svc-001", "svc-002"} {
		s, _ := w.Status(slug)
		s.Level, s.Incident = models.LevelOutage, &models.Incident{ID: uint64(len(slug)), Level: models.LevelOutage, Scope: models.ScopeGlobal, StartedAt: pgNow}
		w.set(s)
	}
	get("/api/v2/status.json", &st)
	if st.Status.Indicator != "critical" {
		t.Errorf("three services in an outage: indicator %q, want critical", st.Status.Indicator)
	}
	for path, want := range map[string]string{"/s/gemini/api/v2/status.json": "major", "/s/evil/api/v2/status.json": "minor", "/s/chatgpt/api/v2/status.json": "none", "/s/sora/api/v2/status.json": "critical"} {
		get(path, &st)
		if st.Status.Indicator != want {
			t.Errorf("%s: indicator %q, want %q", path, st.Status.Indicator, want)
		}
	}

	rec := pgGet(r, "GET", "/api/v2/incidents.json")
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"code":"internal"`) || strings.Contains(rec.Body.String(), "gone") {
		t.Errorf("incidents.json with a failing database: %d %s", rec.Code, rec.Body)
	}
	if rec := pgGet(r, "GET", "/api/v2/summary.json"); rec.Code != http.StatusOK {
		t.Errorf("summary.json with a failing database: %d", rec.Code)
	}
}

// BenchmarkStatuspageHit is a Statuspage client polling the catalogue's
// summary.json and a service's status.json with 50,000 services: answers
// from the render cache.
func BenchmarkStatuspageHit(b *testing.B) {
	w, r := pgServer(b)
	for i := range 50_000 {
		w.set(pgStatus(uint(100+i), fmt.Sprintf("svc-%05d", i), fmt.Sprintf("Service %d", i), models.LevelOK, i%7))
	}
	for _, path := range []string{"/api/v2/summary.json", "/s/chatgpt/api/v2/status.json"} {
		b.Run(path, func(b *testing.B) {
			plain, br := pgGet(r, "GET", path), pgGet(r, "GET", path, "Accept-Encoding", "gzip, br")
			if plain.Code != http.StatusOK || br.Code != http.StatusOK {
				b.Fatalf("%d %d %s", plain.Code, br.Code, plain.Body)
			}
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Accept-Encoding", "gzip, br")
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				rec := httptest.NewRecorder()
				r.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
			b.ReportMetric(float64(plain.Body.Len()), "body-B")
			b.ReportMetric(float64(br.Body.Len()), "body-br-B")
		})
	}
}
