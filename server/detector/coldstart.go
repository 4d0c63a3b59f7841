package detector

import (
	"math"
	"time"

	"github.com/outcry/outcry/models"
)

// Cold start: before a day of history nothing has been learned well enough
// to compare with. Then Params.ColdStart distinct reporters within
// Params.ColdStartWindow open an outage, provided they are also at least
// Params.ColdStartRecord times the busiest earlier window of that length in
// the first day: a service whose normal traffic already brings that many is
// not down when it does so again on its first afternoon.

// coldWindow sums the reports of the ring buckets that start at or after
// unix time from.
func (m *Model) coldWindow(from int64) float64 {
	x, _ := m.coldSpan(from)
	return x
}

// coldSpan is coldWindow and the start of the oldest of those buckets that
// held reports (0 when none did).
func (m *Model) coldSpan(from int64) (x float64, first int64) {
	for i := 0; i < m.n; i++ {
		b, bs := m.at(i)
		if bs < from {
			break
		}
		x += float64(b.x)
		if b.x > 0 {
			first = bs
		}
	}
	return x, first
}

// coldHigh reports whether a cold-start window holding x reports is busy
// enough to keep a cold-start incident open: half the rule, and above the
// record.
func (m *Model) coldHigh(x float64) bool {
	return x >= float64(m.p.ColdStart)/2 && x > m.coldMax
}

// noteColdRecord keeps the busiest ColdStartWindow seen during the first
// day, for the cold-start rule: the window that ended one window before end
// (buckets starting in [end-2W, end-W)), so that a burst judged now is never
// compared with itself. A bucket at least W wide (the 15-minute rollups a
// series is seeded with) counts pro rata as one window.
func (m *Model) noteColdRecord(end int64) {
	w := int64(m.p.ColdStartWindow / time.Second)
	var sum float64
	for i := 0; i < m.n; i++ {
		b, bs := m.at(i)
		if bs >= end-w {
			continue
		}
		if int64(b.secs) >= w {
			if sum == 0 {
				sum = float64(b.x) * float64(w) / float64(b.secs)
			}
			break
		}
		if bs < end-2*w {
			break
		}
		sum += float64(b.x)
	}
	m.coldMax = math.Max(m.coldMax, sum)
}

// noteColdHot records end as the last moment a cold-start window was busy
// (coldHigh), for the recovery of a cold-start incident.
func (m *Model) noteColdHot(end int64) {
	if m.coldHigh(m.coldWindow(end - int64(m.p.ColdStartWindow/time.Second))) {
		m.coldHot = end
	}
}

// decideCold is the cold-start rule at unix time now, with pending reports
// in the bucket in progress. Its evidence starts with the window's first
// bucket that held reports (a brand-new service's burst did not start
// before the service had any). A cold-start incident has recovered once no
// window has been busy (coldHigh) for Params.RecoverySpan.
func (m *Model) decideCold(d *Decision, now int64, pending float64) {
	w := int64(m.p.ColdStartWindow / time.Second)
	x, since := m.coldSpan(now - w)
	x += pending
	if since == 0 {
		since = now - w
		if pending > 0 {
			since = m.last
		}
	}
	d.Cold, d.Since, d.Actual, d.Expected = true, time.Unix(since, 0).UTC(), x, m.coldMax
	d.Recent, d.RecentExpected = x, m.coldMax
	d.Ratio = x / math.Max(m.coldMax, 1)
	if m.p.ColdStart > 0 && x >= float64(m.p.ColdStart) && x >= m.p.ColdStartRecord*m.coldMax {
		d.Level, d.Significance = models.LevelOutage, math.Inf(1)
	}
	// Recovered only after RecoverySpan of counts seen quiet while the
	// incident was open: after a restart the counts before it are gone.
	if since := max(m.coldHot, m.holdFrom); m.hold && !m.coldHigh(x) && now-since >= int64(m.p.RecoverySpan/time.Second) {
		d.Recovered, d.RecoveredSince = true, time.Unix(since, 0).UTC()
	}
}
