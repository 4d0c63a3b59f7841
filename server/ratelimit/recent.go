package ratelimit

import (
	"sync"

	"github.com/outcry/outcry/models"
)

// recentSize bounds how many counted admissions Redis remembers in
// process: at 10,000 counted reports a second, the last 0.8 s.
const recentSize = 8192

// recent remembers the last admissions Redis counted. A report is counted
// before it is stored, so for a moment the store does not know it: when
// Redis goes away (the twin takes over) or loses its data (it is seeded
// again), the markers recalled from the store miss the reports counted but
// not yet written. These are among the last few thousand counted, so the
// twin and a reseeded Redis load this ring with the store's markers, and
// nobody counted just before the fault is counted again after it.
type recent struct {
	mu   sync.Mutex
	buf  []models.CountedMark // a ring, oldest at next once full
	next int
}

// add remembers the counted admissions of one batch.
func (r *recent) add(calls []*admitCall) {
	r.mu.Lock()
	for _, c := range calls {
		if c.err != nil || c.d.Slot <= 0 {
			continue
		}
		m := models.CountedMark{ServiceID: c.a.ServiceID, Reporter: c.a.Reporter, Network: c.a.Network, At: c.a.At}
		if len(r.buf) < recentSize {
			r.buf = append(r.buf, m)
			continue
		}
		r.buf[r.next] = m
		r.next = (r.next + 1) % recentSize
	}
	r.mu.Unlock()
}

// forget drops an admission that was taken back (Undo).
func (r *recent) forget(a models.Admission) {
	r.mu.Lock()
	for i := range r.buf {
		if m := &r.buf[i]; m.ServiceID == a.ServiceID && m.Reporter == a.Reporter && m.At.Equal(a.At) {
			*m = models.CountedMark{}
		}
	}
	r.mu.Unlock()
}

// snapshot copies what is remembered; then, still under the lock, it runs
// then (may be nil). Whatever add remembers after snapshot returns, it
// remembers after then ran.
func (r *recent) snapshot(then func()) []models.CountedMark {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]models.CountedMark, 0, len(r.buf))
	for _, m := range r.buf {
		if m.Reporter != "" {
			out = append(out, m)
		}
	}
	if then != nil {
		then()
	}
	return out
}
