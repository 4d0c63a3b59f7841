package webhook

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
)

// BenchmarkNotifyToFirstAttempt measures, for one event fanned out to 1,000
// subscriptions of one service, the time from Notify (the incident
// transaction committed) to each subscription's first attempt arriving at
// its receiver, with the default pool. Reports p50 and p99 in ms.
func BenchmarkNotifyToFirstAttempt(b *testing.B) {
	const subs = 1000
	var mu sync.Mutex
	var notified time.Time
	var lat []time.Duration
	arrived := make(chan struct{}, subs)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lat = append(lat, time.Since(notified))
		mu.Unlock()
		arrived <- struct{}{}
	}))
	b.Cleanup(srv.Close)
	db := openDB(b)
	s := newService(b, db, nil)
	for i := range subs {
		subscribe(b, s, models.Webhook{URL: srv.URL + "/h/" + strconv.Itoa(i), Services: []string{"chatgpt"}})
	}
	subscribe(b, s, models.Webhook{URL: srv.URL + "/other", Services: []string{"sora"}})
	run(b, s)

	b.ResetTimer()
	for b.Loop() {
		ev, err := models.NewIncidentEvent(models.EventIncidentOpened, testService("chatgpt"), testIncident(), "", time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if err := db.raw.Create(&ev).Error; err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		notified = time.Now()
		mu.Unlock()
		s.Notify()
		for range subs {
			<-arrived
		}
		b.StopTimer()
		testkit.Eventually(b, 30*time.Second, "every attempt recorded", func() bool {
			var n int64
			db.raw.Model(&models.Delivery{}).Where("status = ?", models.DeliveryPending).Count(&n)
			return n == 0
		})
		b.StartTimer()
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}
