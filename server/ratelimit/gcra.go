package ratelimit

import (
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// gcraLimit is a limit in the in-process twin's units: the GCRA of
// github.com/go-redis/redis_rate/v10 (and of the admission script),
// computed on unix nanoseconds instead of seconds since 2017.
type gcraLimit struct {
	interval float64 // nanoseconds between requests (period / rate)
	burst    float64 // interval * burst
}

func newGCRALimit(l redis_rate.Limit) gcraLimit {
	iv := float64(l.Period) / float64(l.Rate)
	return gcraLimit{interval: iv, burst: iv * float64(l.Burst)}
}

// check is one request (cost 1) against a key whose theoretical arrival
// time is tat (0: never seen), without storing it: it returns whether the
// limit allows it, the new TAT to store if so, and the limit's state.
//
// Times are taken relative to now (unix nanoseconds do not fit a float64
// exactly).
func (g gcraLimit) check(tat, nowN int64) (bool, int64, limitState) {
	t := float64(max(tat-nowN, 0)) // the TAT, at least now
	newTAT := t + g.interval
	diff := g.burst - newTAT // now - allow_at
	remaining := diff / g.interval
	if remaining < 0 {
		return false, tat, limitState{denied: true, retry: ceilMicros(-diff), reset: ceilMicros(t)}
	}
	return true, nowN + int64(newTAT), limitState{remaining: int(remaining), reset: ceilMicros(newTAT)}
}

// ceilMicros rounds nanoseconds up to the microsecond, like the script's
// answers.
func ceilMicros(ns float64) time.Duration {
	if ns <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(ns/1e3)) * time.Microsecond
}
