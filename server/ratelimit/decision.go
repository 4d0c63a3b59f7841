package ratelimit

import (
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/outcry/outcry/models"
)

// limitState is one limit's answer to one request.
type limitState struct {
	denied    bool
	remaining int           // requests left after this one (0 when denied)
	retry     time.Duration // when denied: until the next request is allowed
	reset     time.Duration // until the limit is fully replenished
}

// decide builds the Admittance from both limits' answers: a denial reports the
// limit that denies longest, an admission the limit with the fewest requests
// left (the one a client must respect).
func decide(allowed bool, slot int, rl, nl redis_rate.Limit, r, n limitState) models.Admittance {
	byNetwork := false
	if allowed {
		byNetwork = n.remaining < r.remaining || (n.remaining == r.remaining && n.reset > r.reset)
	} else {
		byNetwork = n.denied && (!r.denied || n.retry > r.retry)
	}
	lim, s := rl, r
	if byNetwork {
		lim, s = nl, n
	}
	d := models.Admittance{
		Allowed:    allowed,
		Counted:    slot > 0,
		Slot:       slot,
		Limit:      lim.Rate,
		Period:     lim.Period,
		Remaining:  s.remaining,
		ResetAfter: s.reset,
	}
	if !allowed {
		d.Remaining = 0
		d.RetryAfter = s.retry
		d.ByNetwork = byNetwork
	}
	return d
}
