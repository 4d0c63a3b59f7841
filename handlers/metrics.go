package handlers

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the HTTP layer's Prometheus series. They are registered on the
// registry server passes in, never globally.
type Metrics struct {
	Accepted prometheus.Counter
	Counted  prometheus.Counter
	Rejected *prometheus.CounterVec // by reason: the error code
	Latency  *prometheus.HistogramVec
	// rateLimited is Rejected{reason="rate_limited"}, looked up once: a
	// flood increments it for every request.
	rateLimited prometheus.Counter
}

// NewMetrics creates and registers the series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "outcry_reports_accepted_total", Help: "Reports stored and answered 202.",
		}),
		Counted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "outcry_reports_counted_total", Help: "Accepted reports that counted toward detection (first per reporter, service and 15 minutes).",
		}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outcry_reports_rejected_total", Help: "Reports refused, by reason (error code).",
		}, []string{"reason"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "outcry_http_request_duration_seconds", Help: "HTTP request latency by route template.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route", "status"}),
	}
	reg.MustRegister(m.Accepted, m.Counted, m.Rejected, m.Latency)
	m.rateLimited = m.Rejected.WithLabelValues("rate_limited")
	for _, reason := range []string{"malformed", "too_large", "unsupported_media_type", "invalid", "not_found", "rate_limited", "unavailable", "internal"} {
		m.Rejected.WithLabelValues(reason)
	}
	return m
}
