package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/server"
	"github.com/outcry/outcry/server/catalog"
	"github.com/outcry/outcry/server/servertest"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/store/storetest"
)

// TestServesWhileTheDetectorLearns: on a database with three weeks of
// history (as `outcry seed` fills it), the app serves from its first
// request while the detector learns in the background; /readyz stays 200
// and says how the detector is doing, /metrics counts the services still
// learning, and both reach "caught up". A restart loads the saved models
// and catches up again.
func TestServesWhileTheDetectorLearns(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "outcry.db")
	st, err := store.Open(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	const services = 120
	if _, err := catalog.Seed(ctx, st, catalog.LoadSpec{Services: services, Days: 22, Busy: 3, End: time.Now(), Seed: 5}, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	env := func(env map[string]string) { env["OUTCRY_DATABASE_URL"], env["OUTCRY_DEMO"] = db, "false" }
	opts := func(o *server.Options) { o.RunnerInterval, o.LearnWait = 20*time.Millisecond, -1 }
	learning := func(app *servertest.App) string {
		for _, line := range strings.Split(string(app.Do(t, "GET", "/metrics", nil).Body), "\n") {
			if v, ok := strings.CutPrefix(line, "outcry_detector_learning_services "); ok {
				return v
			}
		}
		return "missing"
	}
	for _, run := range []string{"cold", "warm"} {
		app := servertest.Start(t, env, opts)
		var ready struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
		}
		r := app.Do(t, "GET", "/readyz", nil)
		r.JSON(t, &ready)
		if r.Status != http.StatusOK || (ready.Checks["detector"] != "ok" && ready.Checks["detector"] != "degraded") {
			t.Fatalf("%s: /readyz while learning: %d %s", run, r.Status, r.Body)
		}
		var list struct {
			Items []struct {
				Slug string `json:"slug"`
			} `json:"items"`
		}
		if r := app.Do(t, "GET", "/api/v1/services?limit=5", nil); r.Status != http.StatusOK {
			t.Fatalf("%s: the catalogue while learning: %d", run, r.Status)
		} else if r.JSON(t, &list); len(list.Items) != 5 {
			t.Fatalf("%s: the catalogue while learning: %s", run, r.Body)
		}
		if r := app.Do(t, "GET", "/api/v1/services/"+list.Items[0].Slug, nil); r.Status != http.StatusOK {
			t.Fatalf("%s: a service's status while learning: %d %s", run, r.Status, r.Body)
		}
		testkit.Eventually(t, 60*time.Second, run+": the detector catches up", func() bool {
			r := app.Do(t, "GET", "/readyz", nil)
			r.JSON(t, &ready)
			return r.Status == http.StatusOK && ready.Checks["detector"] == "ok" && learning(app) == "0"
		})
		var ts struct {
			Items []struct {
				Baseline *struct{} `json:"baseline"`
			} `json:"items"`
		}
		app.Do(t, "GET", "/api/v1/services/"+list.Items[0].Slug+"/timeseries?hours=24", nil).JSON(t, &ts)
		if len(ts.Items) == 0 || ts.Items[len(ts.Items)-2].Baseline == nil {
			t.Fatalf("%s: no baseline band once caught up", run)
		}
		if err := app.Stop(); err != nil { // saves the learned models
			t.Fatal(err)
		}
		var saved int64
		if err := storetest.Raw(t, db).Raw(`SELECT count(*) FROM model_states WHERE scope = 'global'`).Scan(&saved).Error; err != nil || saved != services {
			t.Fatalf("%s: %d global models saved at stop (%v), want %d", run, saved, err, services)
		}
	}
}
