package detector

import (
	"fmt"
	"math"
	"time"

	"github.com/outcry/outcry/models"
)

// maxWindows bounds Params.Windows (Decision keeps its stats inline).
const maxWindows = 6

// WindowStat is the evidence of one window: reports seen and expected in it,
// and the test on it with the largest bucket left out.
type WindowStat struct {
	Window       time.Duration // span actually covered (whole buckets)
	Expected     float64       // expected reports in the window, at the level of its start
	Actual       float64       // reports in the window
	Significance float64       // -log10 p of the test (largest bucket left out)
	Excess       float64       // actual - expected, largest bucket left out
	Ratio        float64       // actual / expected, largest bucket left out
	Level        models.Level  // what this window alone says
}

// Decision is the detector's verdict on one series at one moment, with the
// evidence that explains it.
type Decision struct {
	At    time.Time
	Scope string       // models.ScopeGlobal or a region code
	Level models.Level // ok, warning or outage
	Quiet bool         // every window is back near its baseline
	Cold  bool         // decided by the cold-start rule

	// Regional is set on a global decision that Regionalise found confined
	// to one region: the region code that carries the alert instead.
	Regional string

	// The deciding window (the worst one): the same fields as WindowStat.
	Window       time.Duration
	Expected     float64
	Actual       float64
	Ratio        float64 // Actual / Expected over the whole window
	Significance float64

	// Bar is the series' own bar (Model.Bar) when the decision was taken: a
	// window warns only when its significance also reaches it. BarCut is
	// what the bucket width took off the significance bars (testsCut).
	Bar, BarCut float64

	Stats  [maxWindows]WindowStat // every window evaluated, shortest first
	NStats int
}

// Rule is the plain-language rule behind the decision, e.g. "reports in the
// last 5m: 85 vs 12.0 expected (7.1x), significance 14.2 (-log10 p) at least 5:
// warning". It allocates; call it when something changed.
func (d *Decision) Rule(p Params) string {
	if d.Cold && p.ColdStartRecord <= 0 {
		return fmt.Sprintf("cold start (less than %s of history): %.0f distinct reporters in %s; %d open an outage",
			p.MinHistory, d.Actual, d.Window, p.ColdStart)
	}
	if d.Cold {
		return fmt.Sprintf("cold start (less than %s of history): %.0f distinct reporters in %s, the busiest %s before %.0f; "+
			"%d and %gx the busiest open an outage", p.MinHistory, d.Actual, d.Window, d.Window, d.Expected, p.ColdStart, p.ColdStartRecord)
	}
	if d.Level == models.LevelOK && d.Regional != "" {
		return fmt.Sprintf("reports in the last %s: %.0f vs %.1f expected, but the excess is confined to region %s",
			d.Window, d.Actual, d.Expected, d.Regional)
	}
	if d.Level == models.LevelOK {
		return fmt.Sprintf("reports in the last %s: %.0f vs %.1f expected: normal", d.Window, d.Actual, d.Expected)
	}
	sig, ratio, excess := p.WarnSignificance, p.WarnRatio, p.WarnExcess
	if d.Level == models.LevelOutage {
		sig, ratio, excess = p.OutageSignificance, p.OutageRatio, p.OutageExcess
	}
	sig = math.Round((sig-d.BarCut)*100) / 100
	scope := ""
	if d.Scope != "" && d.Scope != models.ScopeGlobal {
		scope = " in " + d.Scope
	}
	return fmt.Sprintf("reports%s in the last %s: %.0f vs %.1f expected (%.1fx); without its busiest bucket "+
		"significance %.1f >= %g, ratio >= %g, excess >= %g: %s",
		scope, d.Window, d.Actual, d.Expected, d.Ratio, d.Significance, sig, ratio, excess, d.Level)
}

// Band is the deciding window's expectation as a models.Band (±2 sd).
func (d *Decision) Band(m *Model) models.Band {
	phi := m.judgedDispersion(d.Window.Minutes(), d.At.Unix())
	sd := math.Sqrt(d.Expected + phi*d.Expected*d.Expected)
	return models.Band{Expected: d.Expected, Low: math.Max(0, d.Expected-2*sd), High: d.Expected + 2*sd}
}

// Decide judges the series at time now. pending is the count of the bucket
// in progress, [end of the last observed bucket, now); pass 0 when now is a
// bucket boundary. It does not change the model.
func (m *Model) Decide(now time.Time, pending float64) Decision {
	return m.decide(now, pending, m.bar, true)
}

// evidence is the largest significance of any window at now, with no bar
// and the measured dispersion (what Model.noteTail records: the series' own
// surges, measured as every later week will judge them), and whether the
// windows are not quiet (then the level defers learning, Params.SuspectHold).
func (m *Model) evidence(now time.Time) (e float64, suspect bool) {
	d := m.decide(now, 0, 0, false)
	for i := 0; i < d.NStats; i++ {
		e = math.Max(e, d.Stats[i].Significance)
	}
	return e, !d.Quiet
}

// decide is Decide with the series' bar given; judged selects the
// dispersion the windows are tested with (judgedDispersion, or the
// measured one).
func (m *Model) decide(now time.Time, pending, bar float64, judged bool) Decision {
	d := Decision{At: now, Scope: models.ScopeGlobal, Level: models.LevelOK, Quiet: true, Bar: bar, BarCut: m.barCut}
	if !m.seen {
		return d
	}
	nowU := now.Unix()
	lev := m.Level()
	ready := m.Ready(now)

	// Walk the ring newest first, the pending bucket before it. A window's
	// expectation is the profile's shape over its buckets at the level the
	// model had when the window began: the null hypothesis is that nothing
	// changed since then, so the window's own reports must not raise what
	// it is compared with (bucket by bucket, the level would have learned a
	// third of a slow hour-long rise before the hour window judged it).
	var x, shp, wlev, bestEx, bestX, bestShp float64
	bestEx = math.Inf(-1)
	cnt, wi, oldest := 0, 0, nowU
	take := func(start, secs int64, bx, bshape, blev float64) {
		x += bx
		shp += bshape
		wlev = blev
		cnt++
		oldest = start
		if ex := bx - blev*bshape; ex > bestEx {
			bestEx, bestX, bestShp = ex, bx, bshape
		}
	}
	// The bucket in progress counts from its first report. Within the first
	// second of a bucket (now and last share a Unix second) it is taken as
	// one second long. It may also be up to two buckets long: the live runner
	// waits a moment (its grace) before it calls a bucket complete, and
	// meanwhile hands over the bucket before and the new one as one pending
	// span. Either way, reports that arrived there are not ignored.
	pendSecs := nowU - m.last
	if pendSecs == 0 && pending > 0 {
		pendSecs = 1
	}
	if pendSecs > 0 && pendSecs < 2*int64(m.bucketSecs) {
		pshape := 0.0
		if ready {
			pshape = m.expectShape(m.last, pendSecs, m.shift)
		}
		take(m.last, pendSecs, math.Max(pending, 0), pshape, lev)
	}
	if !ready {
		// Cold start: distinct reporters within ColdStartWindow.
		lim := nowU - int64(m.p.ColdStartWindow/time.Second)
		for i := 0; i < m.n; i++ {
			b := m.ring[mod(int64(m.head-1-i), ringSize)]
			if int64(b.start)+m.base < lim {
				break
			}
			take(int64(b.start)+m.base, int64(b.secs), float64(b.x), 0, 0)
		}
		// Expected is the busiest earlier window: a service whose normal
		// traffic already brings ColdStart reports in a window is not down
		// when it does so again on its first afternoon.
		d.Cold, d.Window, d.Actual, d.Expected = true, m.p.ColdStartWindow, x, m.coldMax
		if m.p.ColdStart > 0 && x >= float64(m.p.ColdStart) && x >= m.p.ColdStartRecord*m.coldMax {
			d.Level, d.Quiet, d.Significance = models.LevelOutage, false, math.Inf(1)
			d.Ratio = x / math.Max(m.coldMax, 1)
		} else if x >= float64(m.p.ColdStart)/2 && x > m.coldMax {
			d.Quiet = false
		}
		return d
	}
	wins := m.p.Windows
	for i := 0; i <= m.n && wi < len(wins) && wi < maxWindows; i++ {
		var b bucket
		var bs int64
		last := i == m.n
		if !last {
			b = m.ring[mod(int64(m.head-1-i), ringSize)]
			bs = int64(b.start) + m.base
			if b.shape == shapeGap {
				continue
			}
			last = b.shape < 0
		}
		// Close every window that this bucket would overflow.
		for wi < len(wins) && wi < maxWindows && cnt >= 2 && (last || bs < nowU-int64(wins[wi]/time.Second)) {
			if d.NStats == 0 || d.Stats[d.NStats-1].Window != time.Duration(nowU-oldest)*time.Second {
				m.judge(&d, time.Duration(nowU-oldest)*time.Second, x, wlev*shp, bestX, wlev*bestShp, judged)
			}
			wi++
		}
		if last {
			break
		}
		take(bs, int64(b.secs), float64(b.x), float64(b.shape), float64(b.lev))
	}
	return d
}

// judge tests one window and folds it into the decision.
func (m *Model) judge(d *Decision, w time.Duration, x, mu, bx, bmu float64, judged bool) {
	p := &m.p
	lx, lmu := x-bx, mu-bmu // leave the busiest bucket out
	st := WindowStat{Window: w, Expected: mu, Actual: x, Excess: lx - lmu, Level: models.LevelOK}
	if lmu > 0 {
		st.Ratio = lx / lmu
		mins := w.Minutes() * lmu / math.Max(mu, 1e-9)
		phi := m.dispersion(mins)
		if judged {
			phi = m.firstWeekFloor(phi, d.At.Unix())
		}
		st.Significance = Significance(lx, lmu, phi)
	}
	switch {
	case st.Significance < d.Bar:
		// no more surprising than this series' usual daily peak: ok
	case st.Significance >= p.OutageSignificance-d.BarCut && st.Ratio >= p.OutageRatio && st.Excess >= p.OutageExcess:
		st.Level = models.LevelOutage
	case st.Significance >= p.WarnSignificance-d.BarCut && st.Ratio >= p.WarnRatio && st.Excess >= p.WarnExcess:
		st.Level = models.LevelWarning
	}
	if st.Significance >= p.QuietSignificance && st.Excess >= p.WarnExcess/2 && st.Ratio >= 1+(p.WarnRatio-1)/2 {
		d.Quiet = false
	}
	d.Stats[d.NStats] = st
	d.NStats++
	if d.NStats == 1 || st.Level.Rank() > d.Level.Rank() ||
		(st.Level.Rank() == d.Level.Rank() && st.Significance > d.Significance) {
		d.Level, d.Window, d.Expected, d.Actual, d.Significance = st.Level, w, mu, x, st.Significance
		d.Ratio = x / math.Max(mu, 1e-9)
	}
}

// Significance is -log10 of an upper bound on P(X ≥ x) for X negative
// binomial with mean mu and relative variance phi (variance mu + phi mu²;
// phi = 0 is Poisson): the Chernoff bound x ln(x/mu) + (x+r) ln(1 + (mu-x)/(x+r))
// with r = 1/phi. It is 0 when x ≤ mu. Counts need not be integers.
func Significance(x, mu, phi float64) float64 {
	if x <= mu || mu <= 0 {
		if mu <= 0 && x > 0 {
			return math.Inf(1)
		}
		return 0
	}
	var i float64
	if phi <= 1e-12 {
		i = x*math.Log(x/mu) - x + mu
	} else {
		r := 1 / phi
		i = x*math.Log(x/mu) + (x+r)*math.Log1p((mu-x)/(x+r))
	}
	return math.Max(0, i/math.Ln10)
}

// testsCut is how much lower the significance bars are for buckets of secs
// seconds than for 1-minute buckets (the live runner's, for which
// Params.WarnSignificance and OutageSignificance are set): log10 of how many
// fewer distinct tests a week of such buckets makes. A window of w seconds
// spans max(2, floor(w/secs)) whole buckets, windows that come out the same
// are one test, and a window of span s makes about one independent test per
// s, so a week makes about week * sum(1/s) of them. Coarser buckets make
// fewer tests (5-minute buckets: spans 10, 15, 30 and 60 minutes against 2,
// 5, 15, 30 and 60), so the same false alarms per week allow a lower bar per
// test (0.58 lower at 5 minutes). Never negative.
func testsCut(windows []time.Duration, secs int64) float64 {
	rate := func(b int64) float64 {
		var sum float64
		prev := int64(-1)
		for _, w := range windows {
			s := max(2, int64(w/time.Second)/b) * b
			if s != prev {
				sum += 1 / float64(s)
			}
			prev = s
		}
		return sum
	}
	if secs <= 60 || rate(secs) <= 0 {
		return 0
	}
	return math.Max(0, math.Log10(rate(60)/rate(secs)))
}
