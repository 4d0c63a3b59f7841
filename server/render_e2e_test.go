package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/outcry/outcry/server/servertest"
)

// TestReportChangesRenderedResources: reports that change a service's status
// change its page, widget JSON and badges, with new ETags, at the next
// snapshot — nothing is served from a rendering of the old one.
func TestReportChangesRenderedResources(t *testing.T) {
	app := servertest.Start(t, nil, fastRunner)
	if r := app.Admin(t, "POST", "/api/v1/services", map[string]any{"slug": "acme", "name": "Acme Cloud", "problems": []string{"login"}, "cold_start": 3}); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	eventually(t, "the service in the snapshot", func() bool { return app.Do(t, "GET", "/api/v1/services/acme", nil).Status == http.StatusOK })
	paths := []string{"/s/acme", "/api/v1/services/acme", "/badge/acme.svg", "/embed/acme"}
	before := map[string]servertest.Response{}
	for _, p := range paths {
		// The fast runner ticks every few milliseconds and a page shows
		// when it was computed, so a new snapshot may fall between the two
		// requests: a matching ETag must get a 304 whenever none does.
		var r, again servertest.Response
		eventually(t, p+" answering 304 to its own ETag", func() bool {
			r = app.Do(t, "GET", p, nil)
			if r.Status != http.StatusOK || r.Header.Get("ETag") == "" {
				t.Fatalf("%s: %d, ETag %q", p, r.Status, r.Header.Get("ETag"))
			}
			again = app.Do(t, "GET", p, nil, "If-None-Match", r.Header.Get("ETag"))
			return again.Status == http.StatusNotModified
		})
		before[p] = r
	}
	if !strings.Contains(string(before["/s/acme"].Body), "No current problems with Acme Cloud") {
		t.Fatalf("the page before reports: %s", before["/s/acme"].Body)
	}

	for i := range 5 { // each reporter from a network of its own: one counts per network
		if r := app.Report(t, "acme", "100.64."+itoa(i+1)+".1", map[string]string{"problem": "login"}); r.Status != http.StatusAccepted {
			t.Fatalf("report: %d %s", r.Status, r.Body)
		}
	}
	// The outage opens at the third counted report: a tick between the
	// third and the fifth shows it with fewer reports, so wait for both.
	eventually(t, "the outage and all five reports in the status JSON", func() bool {
		body := string(app.Do(t, "GET", "/api/v1/services/acme", nil).Body)
		return strings.Contains(body, `"status":"outage"`) && strings.Contains(body, `"reports_last_15m":5`)
	})
	wants := map[string]string{
		"/s/acme": "User reports indicate problems with Acme Cloud", "/api/v1/services/acme": `"reports_last_15m":5`,
		"/badge/acme.svg": ">outage</text>", "/embed/acme": "Outage",
	}
	for _, p := range paths {
		r := app.Do(t, "GET", p, nil, "If-None-Match", before[p].Header.Get("ETag"))
		if r.Status != http.StatusOK || r.Header.Get("ETag") == before[p].Header.Get("ETag") {
			t.Errorf("%s after the outage: %d, ETag %s unchanged", p, r.Status, r.Header.Get("ETag"))
		}
		if !strings.Contains(string(r.Body), wants[p]) {
			t.Errorf("%s after the outage lacks %q", p, wants[p])
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestAdminRefusesUnknownFields: a typo in an admin body is an error that
// changes nothing, not a 200 that ignores it.
func TestAdminRefusesUnknownFields(t *testing.T) {
	app := servertest.Start(t, nil)
	app.CreateService(t, "acme", "login")
	r := app.Admin(t, "PATCH", "/api/v1/services/acme", map[string]any{"name": "Renamed", "problem": []string{"api"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `\"problem\" is not a field`) {
		t.Errorf("PATCH with an unknown field: %d %s", r.Status, r.Body)
	}
	if r := app.Admin(t, "POST", "/api/v1/services", map[string]any{"slug": "other", "name": "Other", "problems": []string{"x"}, "colds_start": 5}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("POST with an unknown field: %d %s", r.Status, r.Body)
	}
	if n := countRows(t, app.DBPath, `SELECT COUNT(*) FROM services WHERE name = 'Renamed' OR slug = 'other'`); n != 0 {
		t.Errorf("a refused body changed %d services", n)
	}
	if r := app.Admin(t, "PATCH", "/api/v1/services/acme", map[string]any{"name": "Renamed"}); r.Status != http.StatusOK {
		t.Errorf("a good PATCH: %d %s", r.Status, r.Body)
	}
}
