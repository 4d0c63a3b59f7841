package servertest

import (
	"time"

	"github.com/outcry/outcry/internal/testkit"
)

// Clock is a settable clock for tests that need time to pass (incidents
// resolving, buckets closing) without sleeping. Pass Clock.Now as
// server.Options.Now. It is testkit's, which tests of packages servertest
// cannot reach (ratelimit, webhook) use too.
type Clock = testkit.Clock

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return testkit.NewClock(t) }

// Now is the wall time clear of midnight (testkit.Daytime): where a test
// with a Clock starts when the minutes it moves on must stay in one day.
func Now() time.Time { return testkit.Daytime(time.Now().UTC()) }
