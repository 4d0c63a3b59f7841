package detector

import (
	"math"
	"time"

	"github.com/outcry/outcry/models"
)

// Profile geometry: 15-minute slots over a UTC week (slot 0 = Monday 00:00).
const (
	slotSecs     = 15 * 60
	slotsPerDay  = 96
	slotsPerWeek = 7 * slotsPerDay
	ringSize     = 64 // recent buckets kept: an hour of minutes
	weekSecs     = 7 * 86400
	daySecs      = 86400
	mondayOffset = 3 * daySecs // 1970-01-01 was a Thursday
)

// Special bucket.shape values: learned before the model was ready, and an
// ingest gap (the tests skip it).
const (
	shapeUnknown = -1
	shapeGap     = -2
)

// gapMean: a zero bucket where more than this many reports were expected
// (P(0) < e^-10) is lost data, not silence.
const gapMean = 10

// bucket is one observed bucket in the recent ring. start is unix seconds
// relative to Model.base; before seeing x the model expected lev*shape:
// shape is the profile's expectation at level 1, lev the level then.
type bucket struct {
	start         int32
	secs          int32
	x, shape, lev float32
}

// Model is one series' (a service's, or one region's) baseline and its
// sequential tests: a time-of-week profile (profile.go), a level
// (level.go), the overdispersion of the counts (dispersion.go), two CUSUMs
// for a rise and one for recovery (cusum.go), and a short ring of recent
// buckets. It learns from completed buckets only, in time order, and never
// stores raw history. The zero value is not ready: use NewModel. A Model is
// not safe for concurrent use.
type Model struct {
	p Params

	week [slotsPerWeek]float32 // reports per minute by slot of week, as last learned
	day  [slotsPerDay]float32  // reports per minute by slot of day (all days)

	base  int64 // unix seconds of the Monday 00:00 UTC before the first bucket
	first int64 // unix seconds of the first bucket's start
	last  int64 // unix seconds of the last bucket's end
	seen  bool

	lv levelState

	// incident state, from the tracker (Hold): open, and since when
	hold     bool
	holdFrom int64

	// overdispersion at bucket and 15-minute scale, and what a deferral
	// keeps aside for each
	disp, dispDef [dispScales]dispSums
	bucketSecs    int32

	// the thresholds in force (nats): the count model's for bucketSecs
	// (modelBar) and each rise test's (tail.bar)
	barModel float64
	bars     [nTests]float64
	// barsDue: the unix time the rise tests' thresholds are due to be
	// computed at (0: bars are current). Within a run of buckets learned
	// together (Series.Learn) each test only brings its tail to the
	// bucket's end; the thresholds, read only by Decide, are computed once
	// at the end (settleBars), exactly as the last bucket would have.
	barsDue int64

	// cold start: the busiest ColdStartWindow of the first day, one window
	// behind (noteColdRecord), and the end of the last bucket whose window
	// held at least half the rule (recovery from a cold-start incident)
	coldMax float64
	coldHot int64

	// current 15-minute slot being accumulated: reports (winsorised and
	// raw), profile shape, the level at its start and minutes covered
	accSlot                              int64
	accX, accRaw, accShape, accLev, accN float64

	// daily-cycle alignment (slots) and the evidence for its neighbours
	shift int16
	align alignFit

	// the sequential tests (rises), and recovery
	tests [nTests]cusum
	rec   recovery

	ring [ringSize]bucket
	head int // next write position
	n    int // filled entries
}

// NewModel returns an empty model.
func NewModel(p Params) *Model {
	return &Model{p: p}
}

// Hold tells the model whether an incident is open on its series. Opening
// one drops what level learning had kept aside (it was the incident's start)
// and starts the recovery test afresh; while it is open nothing is learned
// upwards until Params.NewLevelAfter has passed. Closing one ends both rise
// tests' runs: their evidence was the incident's.
func (m *Model) Hold(open bool) {
	if open == m.hold {
		return
	}
	m.hold = open
	if open {
		m.holdFrom = m.last
		m.rec = recovery{}
		m.lv.heldNew = false
		m.dropDeferral()
		return
	}
	m.endTests(m.last)
}

// settleBars computes the rise tests' thresholds where a bucket learned
// without them left them due. Their tails have been brought to that time
// and have not changed since (every other change of a tail settles first),
// so the thresholds are exactly those computed bucket by bucket.
func (m *Model) settleBars() {
	if m.barsDue == 0 {
		return
	}
	for i := range m.tests {
		m.bars[i] = m.tests[i].tail.bar(m.barsDue, m.barModel, m.p.Budget)
	}
	m.barsDue = 0
}

// endTests ends every rise test's run at unix time u.
func (m *Model) endTests(u int64) {
	m.settleBars()
	for i := range m.tests {
		m.tests[i].end(u)
	}
}

// Ready reports whether the model has a day of history at time t; before
// that only the cold-start rule applies.
func (m *Model) Ready(t time.Time) bool {
	return m.seen && t.Unix()-m.first >= int64(minHistory/time.Second)
}

// weeks is the number of whole weeks of history at unix time u.
func (m *Model) weeks(u int64) int64 { return (u - m.first) / weekSecs }

// days is the number of whole days of history at unix time u.
func (m *Model) days(u int64) int64 { return (u - m.first) / daySecs }

// Expect is the expected count and its normal band (±2 sd) for the span
// [t, t+d), as the model stands now. Before a day of history it returns a
// zero band.
func (m *Model) Expect(t time.Time, d time.Duration) models.Band {
	if !m.Ready(t) || d <= 0 {
		return models.Band{}
	}
	secs := int64(d / time.Second)
	mu := m.Level() * m.expectShape(t.Unix(), secs, m.shift)
	phi := m.judgedDispersion(float64(secs)/60, t.Unix())
	sd := math.Sqrt(mu + phi*mu*mu)
	return models.Band{Expected: mu, Low: math.Max(0, mu-2*sd), High: mu + 2*sd}
}

// Observe learns one completed bucket [t, t+width) holding count reports
// (distinct reporters). Buckets must come in time order; one that starts
// before the previous one ended is ignored. Widths may differ between calls
// (15-minute rollups to seed, then 1-minute counts live).
//
// The bucket is first judged (the sequential tests take it against what
// was expected before it), then learned: winsorised into the dispersion,
// the level and the profile.
func (m *Model) Observe(t time.Time, width time.Duration, count float64) {
	m.observe(t, width, count)
	m.settleBars()
}

// observe is Observe but leaves the rise tests' thresholds due (barsDue):
// for a run of buckets learned together, ended by settleBars.
func (m *Model) observe(t time.Time, width time.Duration, count float64) {
	u, secs := t.Unix(), int64(width/time.Second)
	if secs <= 0 || math.IsNaN(count) {
		return
	}
	count = math.Max(count, 0)
	if !m.seen {
		m.seen, m.first, m.last = true, u, u
		m.base = u - mod(u+mondayOffset, weekSecs)
		m.accSlot = floorDiv(u, slotSecs)
	}
	if u < m.last {
		return
	}
	if m.hold && m.holdFrom == 0 {
		m.holdFrom = u // held from before the first bucket (a restored incident)
	}
	m.last = u + secs
	if int32(secs) != m.bucketSecs {
		m.settleBars()
		m.bucketSecs = int32(secs)
		m.barModel = modelBar(m.p.Budget, secs)
		for i := range m.tests {
			m.bars[i] = m.tests[i].tail.bar(u, m.barModel, m.p.Budget)
		}
	}
	lev := m.Level()
	shape := m.expectShape(u, secs, m.shift)
	mu := lev * shape
	if !m.Ready(t) {
		m.push(u, secs, count, shapeUnknown, lev)
		if !m.hold {
			m.noteColdRecord(u + secs)
		}
		m.noteColdHot(u + secs)
		m.learnProfile(u, secs, count, count, shape, 0)
		return
	}
	if count == 0 && mu > gapMean {
		m.push(u, secs, 0, shapeGap, lev)
		return
	}
	m.push(u, secs, count, shape, lev)
	m.test(u, secs, count, mu)

	// Winsorise before learning so that an outage moves nothing much;
	// while an incident is young nothing is learned upwards at all, and
	// while a rise is suspect the level defers it (learnLevel) and the
	// profile does not learn it.
	sd := math.Sqrt(mu)
	hi := mu*(1+winsor) + 2*sd + 1
	if m.hold && m.last-m.holdFrom < int64(m.p.NewLevelAfter/time.Second) {
		hi = mu
	}
	lo := mu/(1+winsor) - 2*sd
	xc := math.Min(math.Max(count, lo), hi)
	if !m.hold {
		m.learnDisp(dispBucket, secs, count, mu)
	}
	m.learnLevel(u, secs, xc, shape)
	if m.lv.defFrom != 0 {
		xc = math.Min(xc, mu)
	}
	m.learnProfile(u, secs, xc, count, shape, lev)
}

// push appends a bucket to the recent ring.
func (m *Model) push(u, secs int64, x, shape, lev float64) {
	m.ring[m.head] = bucket{start: int32(u - m.base), secs: int32(secs), x: float32(x), shape: float32(shape), lev: float32(lev)}
	m.head = (m.head + 1) % ringSize
	m.n = min(m.n+1, ringSize)
}

// at is the i-th newest bucket of the ring and its start in unix seconds.
func (m *Model) at(i int) (bucket, int64) {
	b := m.ring[mod(int64(m.head-1-i), ringSize)]
	return b, int64(b.start) + m.base
}

// recent sums the reports, and the profile's shape, of the judged buckets
// that start at or after unix time from (always the newest one), stopping
// at the first bucket learned before the model was ready; gaps are skipped.
// mu is each bucket's expectation when it was judged (level times shape).
func (m *Model) recent(from int64) (x, mu, shape float64) {
	for i := 0; i < m.n; i++ {
		b, bs := m.at(i)
		if i > 0 && bs < from {
			break
		}
		if b.shape == shapeGap {
			continue
		}
		if b.shape < 0 {
			break
		}
		x += float64(b.x)
		mu += float64(b.lev) * float64(b.shape)
		shape += float64(b.shape)
	}
	return x, mu, shape
}

func mod(a, b int64) int64 {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
