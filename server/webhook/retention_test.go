package webhook

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/webhook/webhooktest"
)

// Finished deliveries and their events go; pending ones stay. The metrics
// count attempts by outcome on the injected registry.
func TestPruneAndMetrics(t *testing.T) {
	ok, down := webhooktest.NewReceiver(t), webhooktest.NewReceiver(t, 503)
	reg := prometheus.NewRegistry()
	s := newService(t, openDB(t), func(o *Options) {
		o.Metrics = reg
		o.Backoff = func(int) time.Duration { return time.Hour }
	})
	good := subscribe(t, s, models.Webhook{URL: ok.URL})
	bad := subscribe(t, s, models.Webhook{URL: down.URL})
	run(t, s)
	ev := commit(t, s, models.EventIncidentOpened, "chatgpt")
	testkit.Eventually(t, 5*time.Second, "both attempts recorded", func() bool {
		a, _ := delivery(t, s, ev.ID, good.ID)
		b, _ := delivery(t, s, ev.ID, bad.ID)
		return a.Status == models.DeliverySucceeded && b.Attempts == 1
	})
	if got := counterValue(t, s.m.attempts.WithLabelValues("succeeded")); got != 1 {
		t.Errorf("succeeded attempts %v; want 1", got)
	}
	if got := counterValue(t, s.m.attempts.WithLabelValues("retry")); got != 1 {
		t.Errorf("retried attempts %v; want 1", got)
	}
	families, err := reg.Gather()
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	for _, want := range []string{"outcry_webhook_deliveries_total", "outcry_webhook_attempt_duration_seconds", "outcry_webhook_pending_deliveries"} {
		if err != nil || !names[want] {
			t.Errorf("%s is not on the registry (%v)", want, err)
		}
	}
	if again := newMetrics(reg); again.attempts != s.m.attempts {
		t.Error("a second service on the same registry must reuse the registered collectors")
	}

	n, err := s.Prune(context.Background(), time.Now().Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want the one finished delivery", n, err)
	}
	if _, found := delivery(t, s, ev.ID, good.ID); found {
		t.Error("the finished delivery is still there")
	}
	if d, found := delivery(t, s, ev.ID, bad.ID); !found || len(d.Log) != 1 {
		t.Error("the pending delivery (or its log) was pruned")
	}
	var events, attempts int64
	rawOf(s).Model(&models.Event{}).Count(&events)
	rawOf(s).Model(&models.Attempt{}).Count(&attempts)
	if events != 1 || attempts != 1 {
		t.Errorf("%d events and %d attempts left; want 1 and 1", events, attempts)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
