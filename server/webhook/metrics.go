package webhook

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the dispatcher's Prometheus series.
type metrics struct {
	attempts *prometheus.CounterVec // by outcome: succeeded, retry, failed
	latency  prometheus.Histogram
	pending  prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outcry_webhook_deliveries_total",
			Help: "Webhook delivery attempts by outcome (succeeded, retry, failed).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "outcry_webhook_attempt_duration_seconds",
			Help:    "Time from sending a webhook to its answer (or failure).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 9),
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "outcry_webhook_pending_deliveries",
			Help: "Webhook deliveries waiting for their next attempt.",
		}),
	}
	if reg != nil {
		m.attempts = register(reg, m.attempts)
		m.latency = register(reg, m.latency)
		m.pending = register(reg, m.pending)
	}
	return m
}

// register registers c, or reuses the collector already registered under
// its name (a second Service on the same registry, as after a restart).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
		panic(err) // a programming error: a clashing metric name
	}
	return c
}
