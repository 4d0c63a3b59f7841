package detector

import (
	"context"
	"hash/fnv"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/outcry/outcry/models"
)

// Catalog lists the services to evaluate.
type Catalog interface {
	Services() []models.Service
}

// HistoryReader reads 15-minute rollups of counted reports.
type HistoryReader interface {
	History(ctx context.Context, since time.Time, byRegion bool) ([]models.BucketTotal, error)
}

// RunnerDeps are the runner's collaborators, injected by server.
type RunnerDeps struct {
	Catalog  Catalog
	Counters models.CounterReader
	History  HistoryReader
	Snapshot *Snapshot
	Now      func() time.Time
	Log      *slog.Logger
	Interval time.Duration // between ticks (default 15 s)
}

// Runner evaluates every service on sliding windows at each tick and
// publishes the status snapshot.
type Runner struct {
	RunnerDeps
	hist       map[uint]map[int64]int // service → bucket start → counted reports (completed buckets, from rollups)
	histLoaded time.Time              // the bucket boundary the history was last loaded after
}

// recentSpan is how far back each tick reads the per-minute counters; older
// buckets come from the rollups.
const recentSpan = 45 * time.Minute

// chartSpan is how much history the chart shows.
const chartSpan = 24 * time.Hour

// NewRunner builds a runner.
func NewRunner(d RunnerDeps) *Runner {
	if d.Interval <= 0 {
		d.Interval = 15 * time.Second
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Runner{RunnerDeps: d}
}

// Run ticks until ctx ends. The first tick runs at once.
func (r *Runner) Run(ctx context.Context) {
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		if err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			r.Log.Warn("detector tick failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick evaluates every service once at r.Now() and publishes the snapshot.
func (r *Runner) Tick(ctx context.Context) error {
	now := r.Now().UTC()
	if err := r.loadHistory(ctx, now); err != nil {
		return err
	}
	minute := now.Truncate(time.Minute)
	from := minute.Add(-recentSpan)
	mins, err := r.Counters.Minutes(ctx, from, minute.Add(time.Minute))
	if err != nil {
		return err
	}
	services := r.Catalog.Services()
	recent := make(map[uint][]minuteCount, len(services))
	for _, m := range mins {
		for id, c := range m.Services {
			recent[id] = append(recent[id], minuteCount{minute: m.Minute, counts: c})
		}
	}
	list := make([]models.ServiceStatus, 0, len(services))
	for _, svc := range services {
		list = append(list, r.status(svc, recent[svc.ID], now))
	}
	r.Snapshot.Publish(list)
	return nil
}

type minuteCount struct {
	minute int64
	counts models.Counts
}

// loadHistory reloads completed buckets from the rollups two minutes after
// each bucket boundary (the rollup job runs every minute), and at start.
func (r *Runner) loadHistory(ctx context.Context, now time.Time) error {
	boundary := models.BucketOf(now.Add(-2 * time.Minute))
	if r.hist != nil && !boundary.After(r.histLoaded) {
		return nil
	}
	rows, err := r.History.History(ctx, now.Add(-chartSpan-models.BucketSize), false)
	if err != nil {
		return err
	}
	hist := make(map[uint]map[int64]int)
	for _, row := range rows {
		m := hist[row.ServiceID]
		if m == nil {
			m = make(map[int64]int)
			hist[row.ServiceID] = m
		}
		m[row.Bucket] += row.Count
	}
	r.hist, r.histLoaded = hist, boundary
	return nil
}

// status builds one service's status from its recent minutes and history.
func (r *Runner) status(svc models.Service, recent []minuteCount, now time.Time) models.ServiceStatus {
	st := models.ServiceStatus{Service: svc, Level: models.LevelOK, UpdatedAt: now}
	cut15 := now.Add(-15 * time.Minute).Unix()
	var last15 models.Counts
	live := make(map[int64]int)
	for _, m := range recent {
		if m.minute >= cut15 {
			last15.Add(m.counts)
		}
		live[m.minute/bucketSecs*bucketSecs] += m.counts.Total
	}
	st.Reports15m = last15.Total
	st.TopProblems = shares(last15.Problems, last15.Total, 5)
	st.TopRegions = shares(last15.Regions, last15.Total, 5)

	end := models.BucketOf(now)
	start := end.Add(-chartSpan + models.BucketSize)
	hist := r.hist[svc.ID]
	st.Series = make([]models.Bucket, 0, int(chartSpan/models.BucketSize))
	for b := start; !b.After(end); b = b.Add(models.BucketSize) {
		n := hist[b.Unix()]
		// Counters are fresher, the rollups survive restarts of an
		// in-process counter: the larger is the better estimate.
		if c := live[b.Unix()]; c > n {
			n = c
		}
		st.Series = append(st.Series, models.Bucket{Start: b, Count: n})
	}
	st.Version = version(&st)
	return st
}

const bucketSecs = int64(models.BucketSize / time.Second)

// shares turns counts into the top n shares with percentages.
func shares(m map[string]int, total, n int) []models.Share {
	if total <= 0 || len(m) == 0 {
		return []models.Share{}
	}
	out := make([]models.Share, 0, len(m))
	for k, v := range m {
		out = append(out, models.Share{Key: k, Count: v, Percent: math.Round(1000*float64(v)/float64(total)) / 10})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// version fingerprints what a reader shows, for ETags.
func version(st *models.ServiceStatus) uint64 {
	h := fnv.New64a()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	w(st.Service.Slug)
	w(st.Service.Name)
	w(string(st.Level))
	w(strconv.Itoa(st.Reports15m))
	if st.Incident != nil {
		w(strconv.FormatUint(st.Incident.ID, 10))
		w(string(st.Incident.Level))
	}
	for _, b := range st.Series {
		w(strconv.Itoa(b.Count))
	}
	return h.Sum64()
}
