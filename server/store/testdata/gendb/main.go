// gendb writes a database with the schema of the release (AutoMigrate) and
// a little of every kind of row, for the in-place migration test.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"gorm.io/gorm/clause"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/webhook"
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func main() {
	ctx := context.Background()
	path := os.Args[1]
	log := slog.New(slog.DiscardHandler)
	st, err := store.Open(ctx, path, log)
	must(err)
	hooks := webhook.New(st.DB(), webhook.Options{AllowPrivate: true, Log: log})
	must(hooks.Migrate(ctx))
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	svcs := []models.Service{
		{Slug: "chatgpt", Name: "ChatGPT", Problems: []string{"login", "api"}, ColdStart: 50},
		{Slug: "sora", Name: "Sora", Problems: []string{"video"}, Demo: true},
	}
	for i := range svcs {
		must(st.CreateService(ctx, &svcs[i]))
	}
	w := st.NewWriter(store.WriterOptions{})
	for i := 0; i < 40; i++ {
		r := &models.Report{ServiceID: svcs[i%2].ID, Problem: svcs[i%2].Problems[0], Region: "KR", Note: "note",
			ReporterHash: "0123456789abcdef0123456789abcdef", Counted: i%3 != 0, Minute: t0.Add(time.Duration(i) * time.Minute).Unix(), CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
		must(w.Write(ctx, r))
	}
	must(w.Close(ctx))
	must(st.Rollup(ctx, t0.Add(-time.Hour)))
	must(st.InsertRollups(ctx, []models.Rollup{{ServiceID: svcs[1].ID, Bucket: t0.Add(-24 * time.Hour).Unix(), Region: "US", Problem: "video", Count: 7, Demo: true}}))
	_, err = st.Setting(ctx, "reporter_hash_secret", func() string { return "release-secret-0123456789" })
	must(err)
	wh := models.Webhook{URL: "http://127.0.0.1:9/hook", Services: []string{"chatgpt"}}
	must(hooks.Create(ctx, &wh))
	inc := &models.Incident{ServiceID: svcs[0].ID, Scope: models.ScopeGlobal, Level: models.LevelOutage, StartedAt: t0, PeakAt: t0.Add(5 * time.Minute),
		Peak: 80, Window: 5 * time.Minute, Expected: 3, Actual: 80, Ratio: 26.7, Significance: 12.5, Rule: "release rule",
		TopProblems: []models.Share{{Key: "login", Count: 60, Percent: 75}}, TopRegions: []models.Share{{Key: "KR", Count: 80, Percent: 100}}}
	must(st.ApplyIncident(ctx, models.IncidentChange{Service: svcs[0], Incident: inc, EventType: models.EventIncidentOpened, At: t0.Add(time.Minute), PublicURL: "https://outcry.example",
		State: models.DetectorState{ServiceID: svcs[0].ID, Scope: models.ScopeGlobal, State: []byte(`{"release":true}`)}}))
	res := t0.Add(40 * time.Minute)
	inc.ResolvedAt = &res
	must(st.ApplyIncident(ctx, models.IncidentChange{Service: svcs[0], Incident: inc, EventType: models.EventIncidentResolved, At: res, PublicURL: "https://outcry.example",
		State: models.DetectorState{ServiceID: svcs[0].ID, Scope: models.ScopeGlobal, State: []byte(`{"release":2}`)}}))
	var evs []models.Event
	must(st.DB().Order("id").Find(&evs).Error)
	for i, ev := range evs {
		d := models.Delivery{ID: "dlv_release_" + string(rune('a'+i)), EventID: ev.ID, WebhookID: wh.ID, EventType: ev.Type,
			Status: models.DeliverySucceeded, Attempts: 1, NextAttemptAt: t0, LastStatusCode: 204, CreatedAt: t0, UpdatedAt: t0}
		must(st.DB().Clauses(clause.OnConflict{DoNothing: true}).Create(&d).Error)
		must(st.DB().Create(&models.Attempt{DeliveryID: d.ID, N: 1, At: t0, StatusCode: 204, Latency: 3 * time.Millisecond, Outcome: models.OutcomeSucceeded}).Error)
		must(st.DB().Model(&ev).Update("fanned_out", true).Error)
	}
	must(st.DB().Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error)
	must(st.Close())
}
