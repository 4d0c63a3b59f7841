package server

import (
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/detector"
)

// topServices is how many services get their own reports-per-second series:
// the busiest of the last minute. The label set is bounded by it at any
// moment; a service that leaves the top loses its series.
const topServices = 10

// surgeMetrics are the detector's and the snapshot's series: how long ticks
// take, what is tracked, open incidents, the snapshot's age and the busiest
// services' report rates. The runner feeds them through RunnerDeps.OnTick.
type surgeMetrics struct {
	tick     prometheus.Histogram
	services prometheus.Gauge
	regional prometheus.Gauge
	open     *prometheus.GaugeVec
	rate     *prometheus.GaugeVec
}

func newSurgeMetrics(reg prometheus.Registerer, snap *detector.Snapshot, now func() time.Time) *surgeMetrics {
	m := &surgeMetrics{
		tick: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "outcry_detector_tick_seconds", Help: "Wall time of a detector tick (evaluate every service, publish the snapshot); at start the models learn their history beside the ticks (outcry_detector_learning_services).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		services: prometheus.NewGauge(prometheus.GaugeOpts{Name: "outcry_detector_services", Help: "Services the detector evaluates."}),
		regional: prometheus.NewGauge(prometheus.GaugeOpts{Name: "outcry_detector_regional_series", Help: "Regional series the detector tracks, over all services."}),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "outcry_incidents_open", Help: "Open incidents by level and scope (global or regional), as of the latest snapshot.",
		}, []string{"level", "scope"}),
		rate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "outcry_service_reports_per_second", Help: "Counted reports per second in the last complete minute, for the busiest services only (at most 10 series).",
		}, []string{"service"}),
	}
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "outcry_snapshot_age_seconds", Help: "Seconds since the status snapshot that pages, widgets and badges serve was computed.",
	}, func() float64 {
		seq, at := snap.Published()
		if seq == 0 {
			return 0
		}
		return now().Sub(at).Seconds()
	})
	reg.MustRegister(m.tick, m.services, m.regional, m.open, m.rate, age)
	for _, l := range []models.Level{models.LevelWarning, models.LevelOutage} {
		for _, scope := range []string{"global", "regional"} {
			m.open.WithLabelValues(string(l), scope)
		}
	}
	return m
}

// observe records one tick.
func (m *surgeMetrics) observe(ts detector.TickStats) {
	m.tick.Observe(ts.Took.Seconds())
	m.services.Set(float64(ts.Services))
	m.regional.Set(float64(ts.RegionalSeries))
	open := map[[2]string]int{}
	for i := range ts.Statuses {
		st := &ts.Statuses[i]
		if st.Incident != nil {
			open[[2]string{string(st.Incident.Level), scopeKind(st.Incident.Scope)}]++
		}
		for _, in := range st.Regional {
			open[[2]string{string(in.Level), scopeKind(in.Scope)}]++
		}
	}
	for _, l := range []models.Level{models.LevelWarning, models.LevelOutage} {
		for _, scope := range []string{"global", "regional"} {
			m.open.WithLabelValues(string(l), scope).Set(float64(open[[2]string{string(l), scope}]))
		}
	}
	m.topRates(ts)
}

func scopeKind(scope string) string {
	if scope == models.ScopeGlobal {
		return "global"
	}
	return "regional"
}

// topRates sets the report rate of the busiest services of the last minute.
func (m *surgeMetrics) topRates(ts detector.TickStats) {
	type busy struct {
		id uint
		n  int
	}
	var top []busy
	for id, c := range ts.LastMinute.Services {
		if c.Total > 0 {
			top = append(top, busy{id, c.Total})
		}
	}
	sort.Slice(top, func(i, j int) bool { return top[i].n > top[j].n || (top[i].n == top[j].n && top[i].id < top[j].id) })
	top = top[:min(len(top), topServices)]
	slugs := make(map[uint]string, len(top))
	for _, b := range top {
		slugs[b.id] = ""
	}
	for i := range ts.Statuses {
		if _, ok := slugs[ts.Statuses[i].Service.ID]; ok {
			slugs[ts.Statuses[i].Service.ID] = ts.Statuses[i].Service.Slug
		}
	}
	m.rate.Reset()
	for _, b := range top {
		if slug := slugs[b.id]; slug != "" {
			m.rate.WithLabelValues(slug).Set(float64(b.n) / 60)
		}
	}
}
