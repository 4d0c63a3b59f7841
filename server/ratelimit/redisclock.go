package ratelimit

import (
	"sync"
	"time"
)

// redisClock estimates the offset between Redis's clock (TIME, which the
// admission script answers with) and ours, so a batch can carry a
// deadline in Redis's time: the offset of the exchange with the shortest
// round trip seen lately (an error of at most half that round trip).
type redisClock struct {
	mu     sync.Mutex
	known  bool
	offset int64 // Redis µs minus local µs
	rtt    int64 // µs, of the sample the offset comes from
	at     int64 // local µs of that sample
}

// resample is how long a sample is kept before a longer round trip may
// replace it (clocks drift; a slow period must not freeze a stale offset).
const resample = 10 * time.Second

func (c *redisClock) observe(sent, received time.Time, redisMicros int64) {
	s, r := sent.UnixMicro(), received.UnixMicro()
	rtt := r - s
	c.mu.Lock()
	if !c.known || rtt <= c.rtt || r-c.at > resample.Microseconds() {
		c.known, c.offset, c.rtt, c.at = true, redisMicros-(s+r)/2, rtt, r
	}
	c.mu.Unlock()
}

// deadline is when, in Redis's time (µs), a batch sent at sent is too late
// to run; 0 (none) until the offset is known or when budget is 0.
func (c *redisClock) deadline(sent time.Time, budget time.Duration) int64 {
	if budget <= 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known {
		return 0
	}
	return sent.UnixMicro() + c.offset + budget.Microseconds()
}
