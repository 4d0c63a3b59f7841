package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
)

// planted is an incident written into a stopped app's database as the
// detector writes it (ApplyIncident, with its event), for read-path tests.
type planted struct {
	slug     string
	scope    string
	level    models.Level
	start    time.Time
	resolved time.Duration // after start; 0: open
	group    int           // 1-based index into the planted list of the group's first incident; 0: none
}

// plantIncidents writes the incidents (opened, then resolved where they
// are) through the store of the app's database while the app is stopped,
// and returns their ids in order.
func plantIncidents(t *testing.T, dbPath string, list []planted) []uint64 {
	t.Helper()
	ctx := context.Background()
	st, bySlug := servertest.OpenStore(t, dbPath)
	defer st.Close()
	ids := make([]uint64, len(list))
	for i, p := range list {
		svc, ok := bySlug[p.slug]
		if !ok {
			t.Fatalf("no service %s", p.slug)
		}
		if p.scope == "" {
			p.scope = models.ScopeGlobal
		}
		inc := &models.Incident{ServiceID: svc.ID, Scope: p.scope, Level: p.level, StartedAt: p.start, PeakAt: p.start,
			Peak: 40, Window: 5 * time.Minute, Expected: 2.5, Actual: 40, Ratio: 16, Significance: 9, Rule: "planted",
			TopProblems: []models.Share{{Key: "login", Count: 30, Percent: 75}}}
		var adopt []uint64
		if p.group > 0 {
			g := ids[p.group-1]
			inc.CorrelationID, adopt = &g, []uint64{g}
		}
		state := models.DetectorState{ServiceID: svc.ID, Scope: p.scope, State: []byte(`{}`)}
		ch := models.IncidentChange{Service: svc, Incident: inc, State: state, EventType: models.EventIncidentOpened,
			PublicURL: "https://outcry.example", At: p.start.Add(time.Minute), Adopt: adopt}
		if err := st.ApplyIncident(ctx, ch); err != nil {
			t.Fatal(err)
		}
		ids[i] = inc.ID
		if p.resolved > 0 {
			at := p.start.Add(p.resolved)
			inc.ResolvedAt = &at
			ch = models.IncidentChange{Service: svc, Incident: inc, State: state, EventType: models.EventIncidentResolved,
				PublicURL: "https://outcry.example", At: at}
			if err := st.ApplyIncident(ctx, ch); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

type incidentItem struct {
	ID          uint64  `json:"id"`
	Service     string  `json:"service"`
	ServiceName string  `json:"service_name"`
	Scope       string  `json:"scope"`
	Level       string  `json:"level"`
	StartedAt   string  `json:"started_at"`
	ResolvedAt  *string `json:"resolved_at"`
	Correlation *uint64 `json:"correlation"`
	URL         string  `json:"url"`
}

type incidentPage struct {
	Items []incidentItem `json:"items"`
	Next  *string        `json:"next"`
}

// TestIncidentsAcrossServices: GET /api/v1/incidents through HTTP on a real
// database: newest first, every filter, a walk by the next links that
// keeps the filters, and a 422 (or 404) in the one error shape for every
// bad parameter.
func TestIncidentsAcrossServices(t *testing.T) {
	// The clock stands still, and the open incidents began minutes before
	// it: the detector, which restores them, cannot see 15 quiet minutes
	// since they began and resolve them while the test reads.
	now := servertest.Now().Truncate(time.Second)
	clock := servertest.NewClock(now)
	opts := func(o *server.Options) { o.Now = clock.Now }
	env := servertest.Env(t)
	app := servertest.StartEnv(t, env, opts)
	for _, s := range []string{"alpha", "bravo", "charlie"} {
		app.CreateService(t, s)
	}
	if err := app.Stop(); err != nil {
		t.Fatal(err)
	}
	t0 := now.Add(-6 * time.Hour)
	ids := plantIncidents(t, app.DBPath, []planted{
		{slug: "alpha", level: models.LevelOutage, start: t0, resolved: time.Hour},
		{slug: "bravo", level: models.LevelWarning, start: now.Add(-5 * time.Minute)},
		{slug: "alpha", level: models.LevelOutage, start: t0.Add(2 * time.Hour), resolved: time.Hour},
		{slug: "charlie", scope: "KR", level: models.LevelWarning, start: now.Add(-2 * time.Minute), group: 2},
		{slug: "bravo", level: models.LevelOutage, start: t0.Add(3 * time.Hour), resolved: 30 * time.Minute},
	})
	app = servertest.StartEnv(t, env, opts)

	get := func(path string) incidentPage {
		t.Helper()
		r := app.Do(t, "GET", path, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		var p incidentPage
		r.JSON(t, &p)
		return p
	}
	idsOf := func(p incidentPage) []uint64 {
		out := []uint64{}
		for _, it := range p.Items {
			out = append(out, it.ID)
		}
		return out
	}
	rev := func(idx ...int) []uint64 {
		out := []uint64{}
		for _, i := range idx {
			out = append(out, ids[i])
		}
		return out
	}

	all := get("/api/v1/incidents")
	if got, want := idsOf(all), rev(4, 3, 2, 1, 0); !slices.Equal(got, want) || all.Next != nil {
		t.Fatalf("all: %v next %v, want %v", got, all.Next, want)
	}
	kr := all.Items[1]
	if kr.Service != "charlie" || kr.ServiceName != "Charlie" || kr.Scope != "KR" || kr.Level != "warning" ||
		kr.ResolvedAt != nil || kr.Correlation == nil || *kr.Correlation != ids[1] || kr.URL != "/s/charlie#incident-"+utoa(ids[3]) {
		t.Errorf("the regional incident: %+v", kr)
	}
	if first := all.Items[3]; first.Correlation == nil || *first.Correlation != ids[1] || first.ResolvedAt != nil {
		t.Errorf("the group's first incident: %+v", first)
	}
	if other := all.Items[0]; other.Correlation != nil {
		t.Errorf("an incident in no group has correlation %v", *other.Correlation)
	}

	for q, want := range map[string][]uint64{
		"status=open":     rev(3, 1),
		"status=resolved": rev(4, 2, 0),
		"service=alpha":   rev(2, 0),
		"level=outage":    rev(4, 2, 0),
		"since=" + url.QueryEscape(t0.Add(2*time.Hour).Format(time.RFC3339)):     rev(4, 3, 2, 1),
		"since=" + url.QueryEscape(now.Add(-3*time.Minute).Format(time.RFC3339)): rev(3),
		"correlation=" + utoa(ids[1]):                                            rev(3, 1),
		"status=open&service=bravo":                                              rev(1),
	} {
		if got := idsOf(get("/api/v1/incidents?" + q)); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}

	// A walk by next links, two at a time, keeps the filter and returns
	// each incident once.
	var walked []uint64
	next, pages := "/api/v1/incidents?limit=2&level=outage", 0
	for next != "" {
		p := get(next)
		walked = append(walked, idsOf(p)...)
		next = ""
		if p.Next != nil {
			next = *p.Next
			if !strings.Contains(next, "level=outage") || !strings.Contains(next, "limit=2") {
				t.Errorf("the next link %q loses the query", next)
			}
		}
		if pages++; pages > 5 {
			t.Fatal("the walk does not end")
		}
	}
	if want := rev(4, 2, 0); !slices.Equal(walked, want) || pages != 2 {
		t.Errorf("walked %v in %d pages, want %v in 2", walked, pages, want)
	}

	for _, bad := range []string{"status=closed", "level=ok", "since=yesterday", "limit=0", "limit=201", "limit=x",
		"cursor=abc", "cursor=0", "correlation=-1", "cursor=18446704073709551616", "correlation=9223372036854775808"} {
		r := app.Do(t, "GET", "/api/v1/incidents?"+bad, nil)
		param, _, _ := strings.Cut(bad, "=")
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `"error":{"code":"invalid","message":"`+param+` must be`) {
			t.Errorf("%s: %d %s", bad, r.Status, r.Body)
		}
	}
	if r := app.Do(t, "GET", "/api/v1/incidents?service=nope", nil); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), `"code":"not_found"`) {
		t.Errorf("an unknown service: %d %s", r.Status, r.Body)
	}
	// The service's own list and status carry the correlation too.
	var own struct {
		Items []incidentItem `json:"items"`
	}
	app.Do(t, "GET", "/api/v1/services/charlie/incidents", nil).JSON(t, &own)
	if len(own.Items) != 1 || own.Items[0].Correlation == nil || *own.Items[0].Correlation != ids[1] {
		t.Errorf("charlie's incidents: %+v", own.Items)
	}
}

func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
