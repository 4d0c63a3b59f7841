package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/servertest"
)

// TestSurgeMetrics: /metrics carries the detector's tick, what it tracks,
// open incidents by level, the snapshot's age, the render cache's answers
// and the busiest services' report rates of the last complete minute.
func TestSurgeMetrics(t *testing.T) {
	clock := servertest.NewClock(servertest.Now().Truncate(time.Minute).Add(10 * time.Second))
	app := servertest.Start(t, nil, func(o *server.Options) { o.RunnerInterval = 20 * time.Millisecond; o.Now = clock.Now })
	app.CreateService(t, "chatgpt", "login", "app")
	app.CreateService(t, "quiet", "login")
	burst(t, app, "chatgpt", 120, 0, "US")
	eventually(t, "the outage", func() bool { return view(t, app, "chatgpt").Incident != nil })
	for range 3 {
		app.Do(t, "GET", "/badge/chatgpt.svg", nil)
	}
	clock.Add(time.Minute) // the burst's minute is now complete
	want := []string{
		"outcry_detector_tick_seconds_count ",
		"outcry_detector_services 2",
		"outcry_detector_regional_series ",
		`outcry_incidents_open{level="outage",scope="global"} 1`,
		`outcry_incidents_open{level="warning",scope="regional"} 0`,
		"outcry_snapshot_age_seconds ",
		`outcry_render_cache_requests_total{kind="badge",result="hit"} `,
		`outcry_render_cache_requests_total{kind="badge",result="miss"} `,
		`outcry_service_reports_per_second{service="chatgpt"} 2`,
	}
	var body string
	eventually(t, "the metrics", func() bool {
		body = string(app.Do(t, "GET", "/metrics", nil).Body)
		for _, w := range want {
			if !strings.Contains(body, w) {
				return false
			}
		}
		return true
	})
	if strings.Contains(body, `outcry_service_reports_per_second{service="quiet"}`) {
		t.Error("a service without reports has a rate series")
	}
}
