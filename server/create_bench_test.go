package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/servertest"
	"github.com/outcry/outcry/server/store"
)

// BenchmarkCreateService creates services through the admin API of a
// running app whose catalogue already has 100 or 50,000 services, and
// reports the latency percentiles of one creation (the whole HTTP exchange:
// validation, the committed insert, the catalogue update).
//
//	go test ./server -run XXX -bench CreateService -benchtime 300x
func BenchmarkCreateService(b *testing.B) {
	for _, n := range []int{100, 50_000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			env := servertest.Env(b)
			st, err := store.Open(context.Background(), env["OUTCRY_DATABASE_URL"], slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			list := make([]models.Service, n)
			for i := range list {
				list[i] = models.Service{Slug: fmt.Sprintf("existing-%06d", i), Name: fmt.Sprintf("Existing %d", i), Problems: []string{"login", "app"}}
			}
			if err := st.InsertServices(context.Background(), list); err != nil {
				b.Fatal(err)
			}
			_ = st.Close()
			app := servertest.StartEnv(b, env)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				r := app.Admin(b, "POST", "/api/v1/services", map[string]any{"slug": fmt.Sprintf("new-%06d", i), "name": "New", "problems": []string{"login"}})
				lat = append(lat, time.Since(t0))
				if r.Status != http.StatusCreated {
					b.Fatalf("create: %d %s", r.Status, r.Body)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
		})
	}
}
