package detector

import (
	"fmt"
	"math"
	"time"

	"github.com/outcry/outcry/models"
)

// Decision is the detector's verdict on one series at one moment, with the
// evidence that explains it.
type Decision struct {
	At    time.Time
	Scope string       // models.ScopeGlobal or a region code
	Level models.Level // ok, warning or outage
	Cold  bool         // decided by the cold-start rule

	// Regional is set on a global decision that Regionalise found confined
	// to one region: the region code that carries the alert instead.
	Regional string

	// The deciding test (outage when at outage, else warning): the rise it
	// tests, its evidence since Since (the start of its run) as reports and
	// expected reports, and the statistic and threshold, both as -log10 of
	// the odds against no rise (a bound on the p-value of the run). At rest,
	// Since is EvidenceSpan ago and Actual and Expected are that span's.
	// Bar is the threshold in force and ModelBar the count model's, from
	// the budget alone; Bar is higher when the series' own excursions are.
	Rise         float64
	Since        time.Time
	Expected     float64
	Actual       float64
	Ratio        float64 // Actual / Expected
	Significance float64
	Bar          float64
	ModelBar     float64

	// The last EvidenceSpan: reports and expected reports.
	Recent, RecentExpected float64

	// Recovered: the recovery test says the counts have been back to
	// normal since RecoveredSince, for at least Params.RecoverySpan. Only
	// meaningful while an incident is open (the Tracker resolves on it).
	Recovered      bool
	RecoveredSince time.Time
}

// Window is the span of the deciding evidence.
func (d *Decision) Window() time.Duration {
	if d.Since.IsZero() {
		return 0
	}
	return d.At.Sub(d.Since)
}

// Rule is the plain-language rule behind the decision. It allocates; call
// it when something changed.
func (d *Decision) Rule(p Params) string {
	if d.Cold && p.ColdStartRecord <= 0 {
		return fmt.Sprintf("cold start (less than %s of history): %.0f distinct reporters in %s; %d open an outage",
			minHistory, d.Actual, p.ColdStartWindow, p.ColdStart)
	}
	if d.Cold {
		return fmt.Sprintf("cold start (less than %s of history): %.0f distinct reporters in %s, the busiest %s before %.0f; "+
			"%d and %gx the busiest open an outage", minHistory, d.Actual, p.ColdStartWindow, p.ColdStartWindow, d.Expected, p.ColdStart, p.ColdStartRecord)
	}
	scope := ""
	if d.Scope != "" && d.Scope != models.ScopeGlobal {
		scope = " in " + d.Scope
	}
	since := d.Since.UTC().Format("15:04")
	if d.Level == models.LevelOK && d.Regional != "" {
		return fmt.Sprintf("reports since %s: %.0f vs %.1f expected, but the excess is confined to region %s",
			since, d.Actual, d.Expected, d.Regional)
	}
	if d.Level == models.LevelOK {
		return fmt.Sprintf("reports%s since %s: %.0f vs %.1f expected: normal", scope, since, d.Actual, d.Expected)
	}
	return fmt.Sprintf("reports%s since %s: %.0f vs %.1f expected (%.1fx); evidence of a %gx rise %.1f >= %.1f, "+
		"%+.0f reporters in %s >= %g: %s",
		scope, since, d.Actual, d.Expected, d.Ratio, d.Rise, d.Significance, d.Bar,
		d.Recent-d.RecentExpected, EvidenceSpan, p.MinReports, d.Level)
}

// test judges one completed bucket [u, u+secs) of x reports where mu were
// expected: the rise tests and, while an incident is open, the recovery
// test take its log-likelihood ratios; then the thresholds are due to be
// refreshed (settleBars).
func (m *Model) test(u, secs int64, x, mu float64) {
	phi := m.judgedDispersion(float64(secs)/60, u)
	for i := range m.tests {
		c, rise := &m.tests[i], m.p.rise(i)
		l := nbLLR(x, mu, phi, rise)
		if i == testWarn && m.hold {
			m.rec.step(u, -l)
		}
		c.step(u, secs, x, mu, l)
		c.note(m.runEvidence(c.s, c.from, u+secs, c.x, c.mu, 0, 0, rise).s)
		c.tail.decay(u + secs) // the threshold itself is computed when due (settleBars)
	}
	m.barsDue = u + secs
	if settleEachTest {
		m.settleBars()
	}
}

// settleEachTest computes the thresholds in every test, as before they
// could be left due: the reference TestLearnMatchesAdvance compares with.
// Never set outside tests.
var settleEachTest = false

// Decide judges the series at time now. pending is the count of the bucket
// in progress, [end of the last observed bucket, now); pass 0 when now is a
// bucket boundary. It does not change the model.
func (m *Model) Decide(now time.Time, pending float64) Decision {
	d := Decision{At: now, Scope: models.ScopeGlobal, Level: models.LevelOK}
	if !m.seen {
		return d
	}
	nowU := now.Unix()
	// The bucket in progress counts from its first report. Within the first
	// second of a bucket (now and last share a Unix second) it is taken as
	// one second long. It may also be up to two buckets long: the live runner
	// waits a moment (its grace) before it calls a bucket complete, and
	// meanwhile hands over the bucket before and the new one as one pending
	// span.
	pendSecs := nowU - m.last
	if pendSecs == 0 && pending > 0 {
		pendSecs = 1
	}
	if pendSecs <= 0 || pendSecs >= 2*int64(m.bucketSecs) {
		pendSecs, pending = 0, 0
	}
	pending = math.Max(pending, 0)
	if !m.Ready(now) {
		m.decideCold(&d, nowU, pending)
		return d
	}
	var pmu, phi float64
	if pendSecs > 0 {
		pmu = m.Level() * m.expectShape(m.last, pendSecs, m.shift)
		phi = m.judgedDispersion(float64(pendSecs)/60, m.last)
	}
	rx, rmu, _ := m.recent(nowU - int64(EvidenceSpan/time.Second))
	d.Recent, d.RecentExpected = rx+pending, rmu+pmu
	enough := d.Recent-d.RecentExpected >= m.p.MinReports
	d.ModelBar = m.barModel / math.Ln10
	var warnRun run
	deciding := -1
	for i := nTests - 1; i >= 0; i-- {
		var l float64
		if pendSecs > 0 {
			l = nbLLR(pending, pmu, phi, m.p.rise(i))
		}
		r := m.tests[i].peek(m.last, pending, pmu, l)
		r = m.runEvidence(r.s, r.from, nowU, r.x, r.mu, pending, pmu, m.p.rise(i))
		if i == testWarn {
			warnRun = r
			if m.hold {
				m.recovered(&d, nowU, -l)
			}
		}
		// An outage test also wants the run to be OutageRise above the
		// expectation: a CUSUM drifts up for any rise above its
		// break-even, (rho-1)/ln rho, 2.2x for a 4x test.
		big := i == testWarn || r.x >= m.p.OutageRise*r.mu
		if deciding < 0 && big && r.s >= m.bars[i] && enough && nowU-r.from >= int64(m.p.MinSpan/time.Second) {
			deciding = i
			d.Level = models.LevelOutage
			if i == testWarn {
				d.Level = models.LevelWarning
			}
			m.evidence(&d, i, r)
		}
	}
	if deciding < 0 {
		if warnRun.s <= 0 {
			warnRun = run{from: nowU - int64(EvidenceSpan/time.Second), x: d.Recent, mu: d.RecentExpected}
		}
		m.evidence(&d, testWarn, warnRun)
	}
	return d
}

// recovered sets the decision's recovery: the recovery test, with l the
// bucket in progress's evidence for normal over a WarnRise rise, has
// reached oddsBase and run for Params.RecoverySpan.
func (m *Model) recovered(d *Decision, now int64, l float64) {
	r, from := m.rec.r, m.rec.from
	if r == 0 && l > 0 {
		from = m.last
	}
	r = math.Max(0, r+l)
	if r >= oddsBase && now-from >= int64(m.p.RecoverySpan/time.Second) {
		d.Recovered, d.RecoveredSince = true, time.Unix(from, 0).UTC()
	}
}

// runEvidence caps a test's statistic s (the sum of its buckets'
// log-likelihood ratios, as if each bucket's error were its own) by the
// log-likelihood ratio of the counts themselves, with the dispersion of
// their span: the baseline's slow error is shared by every bucket of a
// span, and an hour at 1.7x on a quiet series is one misfit, not sixty
// pieces of evidence. The counts are those of the run (x reports where mu
// were expected since unix time from, up to end) and, when the run is
// longer, of its last EvidenceSpan and its last hour (the ring's buckets
// and px, pmu in progress), whichever says most: a run kept alive for a
// day by a mild misfit must not dilute an outage that began an hour ago.
// It returns the evidence with the span and counts that gave it.
func (m *Model) runEvidence(s float64, from, end int64, x, mu, px, pmu, rise float64) run {
	r := run{s, from, x, mu}
	if s <= 0 || mu <= 0 {
		return r
	}
	best := nbLLR(x, mu, m.judgedDispersion(float64(end-from)/60, m.last), rise)
	if s > oddsBase && best < s {
		for _, w := range recentWindows {
			if end-w <= from {
				break
			}
			wx, wmu, _ := m.recent(end - w)
			wx, wmu = wx+px, wmu+pmu
			if e := nbLLR(wx, wmu, m.judgedDispersion(float64(w)/60, m.last), rise); wmu > 0 && e > best {
				best, r.from, r.x, r.mu = e, end-w, wx, wmu
			}
		}
	}
	r.s = math.Max(0, math.Min(s, best))
	return r
}

// recentWindows are the spans, shortest first, over which runEvidence also
// weighs the end of a long run: EvidenceSpan and an hour.
var recentWindows = [2]int64{int64(EvidenceSpan / time.Second), 3600}

// evidence fills the decision's deciding test: test i and its run r.
func (m *Model) evidence(d *Decision, i int, r run) {
	d.Rise, d.Significance, d.Bar = m.p.rise(i), r.s/math.Ln10, m.bars[i]/math.Ln10
	d.Since, d.Actual, d.Expected = time.Unix(r.from, 0).UTC(), r.x, r.mu
	d.Ratio = r.x / math.Max(r.mu, 1e-9)
}

// run is a test's run as Decide sees it: its statistic (or evidence), its
// start (unix seconds), reports and expected reports.
type run struct {
	s     float64
	from  int64
	x, mu float64
}

// peek is the test's run if the bucket in progress, starting at u with x
// reports where mu were expected (log-likelihood ratio l), were complete
// now; a zero run when the test would be at rest.
func (c *cusum) peek(u int64, x, mu, l float64) run {
	r := run{c.s, c.from, c.x, c.mu}
	if r.s == 0 {
		if l <= 0 {
			return run{}
		}
		r.from = u
	}
	r.s = math.Max(0, r.s+l)
	if r.s == 0 {
		return run{}
	}
	r.x += x
	r.mu += mu
	return r
}
