package detector

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/outcry/outcry/models"
)

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

// version fingerprints what a reader shows, for ETags: head is everything
// but the chart series (the service, its level, counts and incidents), all
// that and the series' fingerprint (seriesHash, computed when the series
// changes, not at every tick). Numbers are hashed as bytes, rounded as
// pages show them (no formatting: this runs for every service at every
// tick).
func version(st *models.ServiceStatus, series uint64) (all, head uint64) {
	h := fnv.New64a()
	var buf [8]byte
	n := func(v uint64) { binary.LittleEndian.PutUint64(buf[:], v); h.Write(buf[:]) }
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	w(st.Service.Slug)
	w(st.Service.Name)
	w(string(st.Level))
	n(uint64(st.Reports15m))
	corr := func(in *models.Incident) {
		if in.CorrelationID != nil {
			n(*in.CorrelationID)
		}
	}
	for i := range st.Regional {
		n(st.Regional[i].ID)
		corr(&st.Regional[i])
	}
	if st.Incident != nil {
		n(st.Incident.ID)
		w(string(st.Incident.Level))
		n(uint64(int64(math.Round(st.Incident.Peak))))
		corr(st.Incident)
	}
	head = h.Sum64()
	return mixWord(head, series), head
}

// seriesHash fingerprints a chart series as pages show it: its last
// bucket's start, each count and each expectation rounded to a tenth. It
// mixes a word at a time (FNV over the bytes of 96 buckets for each of
// 50,000 services at every tick was 0.68 s of CPU in four ticks).
func seriesHash(series []models.Bucket) uint64 {
	h := mixWord(0x6f7574637279, uint64(len(series)))
	if len(series) > 0 {
		h = mixWord(h, uint64(series[len(series)-1].Start.Unix()))
	}
	for _, b := range series {
		h = mixWord(h, uint64(b.Count))
		if b.Baseline == nil {
			h = mixWord(h, noBand)
		} else {
			h = mixWord(h, uint64(int64(math.Round(b.Baseline.Expected*10))))
		}
	}
	return h
}

// noBand stands for a bucket without a baseline band in seriesHash.
const noBand = 0x8000_0000_0000_0001

// mixWord mixes one word into a fingerprint (a multiply and a shift: not
// for adversaries, for noticing changes).
func mixWord(h, w uint64) uint64 {
	h = (h ^ w) * 0x9e3779b97f4a7c15
	return h ^ h>>31
}

// status builds one service's status from the runner's state.
func (r *Runner) status(tr *tracked, now time.Time) models.ServiceStatus {
	st := models.ServiceStatus{Service: tr.svc, Level: models.LevelOK, UpdatedAt: now}
	st.Reports15m = tr.last15.Total
	st.TopProblems = shares(tr.last15.Problems, tr.last15.Total, 5)
	st.TopRegions = shares(tr.last15.Regions, tr.last15.Total, 5)

	// Open incidents: the global one first, then regional ones by level.
	var open []models.Incident
	if in := tr.global.Incident(); in != nil && in.Open() {
		open = append(open, *in)
	}
	codes := make([]string, 0, len(tr.regions))
	for code := range tr.regions {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	var regional []models.Incident
	for _, code := range codes {
		if in := tr.regions[code].Incident(); in != nil && in.Open() {
			regional = append(regional, *in)
		}
	}
	sort.SliceStable(regional, func(i, j int) bool { return regional[i].Level.Rank() > regional[j].Level.Rank() })
	open = append(open, regional...)
	if len(open) > 0 {
		st.Incident = &open[0]
		st.Regional = open[1:]
		st.Level = st.Incident.Level
		if st.Incident.Scope != models.ScopeGlobal {
			// Trouble in one region is "possible problems" for the service
			// as a whole; the regional incident says where.
			st.Level = models.LevelWarning
		}
	}

	end := models.BucketOf(now)
	start := end.Add(-chartSpan + models.BucketSize)
	refreshBands(tr, start, now)
	hist := r.chart[tr.svc.ID]
	st.Series = r.chartSeries(tr, hist, start, end, now)
	st.Version, st.HeadVersion = version(&st, tr.shownHash)
	return st
}

const bucketSecs = int64(models.BucketSize / time.Second)

// chartKey is what a chart series is built from when no live count goes
// into it (a service nobody reported in the minutes kept): the chart's
// last bucket, the rollups loaded (Runner.chartGen) and the service's
// bands (tracked.bandsGen).
type chartKey struct {
	end   int64
	chart uint64
	bands uint32
}

// chartSeries is the service's last day of buckets. It is built in a
// scratch slice (one for every service: 4 KB each was 200 MB at 50,000
// services) and published only when it differs from the last one
// published: most services' charts do not change from one tick to the
// next, and a new slice for each of 50,000 services every tick was most of
// a tick's cost (allocation and GC). A service with no live count whose
// series was built from the same inputs (chartKey) is not built again:
// building and comparing 96 buckets for each of 50,000 services was 0.8 s
// of CPU in four ticks, for series that had not changed.
func (r *Runner) chartSeries(tr *tracked, hist map[int64]int, start, end, now time.Time) []models.Bucket {
	active := r.active[tr.svc.ID] // else every live count is zero
	key := chartKey{end: end.Unix(), chart: r.chartGen, bands: tr.bandsGen}
	if !active && tr.shown != nil && tr.shownFrom == key {
		return tr.shown
	}
	liveFrom := now.Truncate(time.Minute).Add(-recentSpan).Unix()
	series := r.scratch[:0]
	for i, b := 0, start; !b.After(end); i, b = i+1, b.Add(models.BucketSize) {
		n := hist[b.Unix()]
		// Counters are fresher; the rollups survive a restart of the
		// in-process counters: the larger is the better estimate.
		if bu := b.Unix(); bu+bucketSecs > liveFrom && active {
			live := 0
			for m := max(bu, liveFrom/60*60); m < bu+bucketSecs && m <= now.Unix(); m += 60 {
				live += r.counts(tr.svc.ID, m).Total
			}
			n = max(n, live)
		}
		bk := models.Bucket{Start: b, Count: n}
		if i < len(tr.bands) {
			bk.Baseline = tr.bands[i]
		}
		series = append(series, bk)
	}
	r.scratch = series
	if tr.shown == nil || !sameSeries(series, tr.shown) {
		if len(tr.spare) == len(series) {
			copy(tr.spare, series)
			tr.shown = tr.spare
		} else {
			tr.shown = slices.Clone(series)
		}
		tr.spare = nil
		tr.shownHash = seriesHash(tr.shown)
	}
	tr.shownFrom = chartKey{}
	if !active {
		tr.shownFrom = key
	}
	return tr.shown
}

// sameSeries reports whether two chart series show the same (bands are
// shared pointers, replaced when they are recomputed).
func sameSeries(a, b []models.Bucket) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Count != b[i].Count || a[i].Baseline != b[i].Baseline || !a[i].Start.Equal(b[i].Start) {
			return false
		}
	}
	return true
}

// refreshBands keeps the chart's baseline band: what the model expects in
// each 15-minute bucket of the last day, recomputed once per bucket. At a
// bucket boundary the band moves on by one bucket and only the new bucket's
// expectation is computed; the whole day is recomputed later in the bucket,
// at a moment of its own for each service (bandsDue), so that 50,000
// services do not compute 96 expectations each in the same tick (about a
// second of CPU at every boundary). A band that is not complete (a model
// that was not ready) is recomputed at once. It touches only tr (the
// learner's workers call it for the services they learn: learnedBands).
func refreshBands(tr *tracked, start, now time.Time) {
	b := models.BucketOf(now).Unix()
	n := int(chartSpan / models.BucketSize)
	m := tr.global.Model
	full := func() {
		tr.bands, tr.bandsAt, tr.bandsFresh = make([]*models.Band, n), b, true
		tr.bandsGen++
		if !m.Ready(now) {
			return
		}
		// One allocation for the day's bands, not one each (96 small
		// objects a service, 4.8 million at 50,000 services).
		day := make([]models.Band, n)
		for i := range day {
			day[i] = m.Expect(start.Add(time.Duration(i)*models.BucketSize), models.BucketSize)
			tr.bands[i] = &day[i]
		}
	}
	switch {
	case tr.bands != nil && tr.bandsAt == b:
		if !tr.bandsFresh && now.Unix()-b >= bandsDue(tr.svc.ID) {
			full()
		}
	case tr.bands != nil && tr.bandsAt == b-bucketSecs && tr.bands[n-1] != nil && m.Ready(now):
		moved := make([]*models.Band, n)
		copy(moved, tr.bands[1:])
		band := m.Expect(start.Add(time.Duration(n-1)*models.BucketSize), models.BucketSize)
		moved[n-1] = &band
		tr.bands, tr.bandsAt, tr.bandsFresh = moved, b, false
		tr.bandsGen++
	default:
		full()
	}
}

// bandsDue is how many seconds into each bucket a service's band is
// recomputed whole: between the second and the fourteenth minute, spread
// by service.
func bandsDue(id uint) int64 {
	return 60 + int64((uint64(id)*2654435761)%(12*60))
}
