package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/outcry/outcry/models"
)

// Config configures both implementations. Zero fields take the defaults of
// DefaultConfig.
type Config struct {
	// Reporter limits one reporter (a keyed hash of its address).
	// Default: 5 per minute, burst 5.
	Reporter redis_rate.Limit
	// Network limits one network (a keyed hash of the /24 or /48).
	// Default: 300 per minute, burst 300.
	Network redis_rate.Limit
	// Dedupe is the window in which a reporter is counted at most once per
	// service. Default: 15 minutes.
	Dedupe time.Duration
	// CounterTTL is how long a per-minute counter lives after its last
	// increment. Default: 48 hours.
	CounterTTL time.Duration
	// Prefix starts every Redis key, e.g. "outcry:". Default: "outcry:".
	Prefix string
	// DenyCacheSize caps the entries of the in-process deny cache;
	// negative disables it. Default: 100000.
	DenyCacheSize int
	// NetworkEvidence is how many counted reports one network (/24 or /48)
	// may contribute to one service within Dedupe: the k-th distinct
	// reporter of a network is counted, the (k+1)-th is accepted but not
	// counted until one of the network's slots lapses. Default: 1, so a
	// network weighs like one reporter, however many addresses it uses.
	NetworkEvidence int
	// MaxEntries caps each of the in-process maps: reporter limits,
	// network limits, and (twice as many) dedupe and evidence markers.
	// Past it, lapsed entries go first, then arbitrary ones (a dropped
	// live marker may let its reporter count again). Default: 4,000,000,
	// about 750 MiB when every map is full.
	MaxEntries int
	// Shards is how many hash tags the Redis keys are spread over (Redis
	// Cluster: keys of one admission share a tag, so one script call
	// touches one hash slot). Default: 1.
	Shards int
	// Deadline is how long after sending an admission batch Redis may still
	// run it; later (Redis was paused or slow) it refuses the batch, so a
	// batch the client has given up on is never also counted by Redis.
	// Keep it below the client's read timeout. Default: 250ms.
	Deadline time.Duration
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{
		Reporter:        redis_rate.PerMinute(5),
		Network:         redis_rate.PerMinute(300),
		Dedupe:          15 * time.Minute,
		CounterTTL:      48 * time.Hour,
		Prefix:          "outcry:",
		DenyCacheSize:   100_000,
		NetworkEvidence: 1,
		MaxEntries:      4_000_000,
		Shards:          1,
		Deadline:        250 * time.Millisecond,
	}
}

// normalize fills zero fields with defaults and rejects invalid values.
func (c Config) normalize() (Config, error) {
	d := DefaultConfig()
	if c.Reporter.IsZero() {
		c.Reporter = d.Reporter
	}
	if c.Network.IsZero() {
		c.Network = d.Network
	}
	if c.Dedupe == 0 {
		c.Dedupe = d.Dedupe
	}
	if c.CounterTTL == 0 {
		c.CounterTTL = d.CounterTTL
	}
	if c.Prefix == "" {
		c.Prefix = d.Prefix
	}
	if c.DenyCacheSize == 0 {
		c.DenyCacheSize = d.DenyCacheSize
	}
	if c.NetworkEvidence == 0 {
		c.NetworkEvidence = d.NetworkEvidence
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = d.MaxEntries
	}
	if c.Shards == 0 {
		c.Shards = d.Shards
	}
	if c.Deadline == 0 {
		c.Deadline = d.Deadline
	}
	var errs []error
	errs = append(errs, checkLimit("reporter", c.Reporter), checkLimit("network", c.Network))
	if c.Dedupe < time.Millisecond {
		errs = append(errs, fmt.Errorf("dedupe window %s is shorter than 1ms", c.Dedupe))
	}
	if c.CounterTTL < time.Millisecond {
		errs = append(errs, fmt.Errorf("counter TTL %s is shorter than 1ms", c.CounterTTL))
	}
	if c.NetworkEvidence < 1 || c.NetworkEvidence > 64 {
		errs = append(errs, fmt.Errorf("network evidence %d: want 1 to 64 counted reports per network", c.NetworkEvidence))
	}
	if c.MaxEntries < localShards {
		errs = append(errs, fmt.Errorf("max entries %d: want at least %d", c.MaxEntries, localShards))
	}
	if c.Shards < 1 || c.Shards > 1024 {
		errs = append(errs, fmt.Errorf("shards %d: want 1 to 1024", c.Shards))
	}
	if c.Deadline < 0 {
		errs = append(errs, fmt.Errorf("deadline %s is negative", c.Deadline))
	}
	if c.DenyCacheSize < 0 {
		errs = append(errs, fmt.Errorf("deny cache size %d is negative", c.DenyCacheSize))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("ratelimit: invalid config: %w", err)
	}
	return c, nil
}

func checkLimit(name string, l redis_rate.Limit) error {
	if l.Rate <= 0 || l.Burst <= 0 || l.Period <= 0 {
		return fmt.Errorf("%s limit %s: rate, burst and period must be positive", name, l)
	}
	return nil
}

// checkAdmission rejects admissions the limiter cannot key.
func checkAdmission(a models.Admission) error {
	if a.Reporter == "" || a.Network == "" {
		return models.Errorf(models.CodeInvalid, "admission needs a reporter and a network")
	}
	return nil
}

// unixMinute is the unix second at which the minute holding t starts.
func unixMinute(t time.Time) int64 {
	s := t.Unix()
	m := s % 60
	if m < 0 {
		m += 60
	}
	return s - m
}

// minuteBounds turns [from, to) into the unix minutes lo <= m < hi to read:
// the minute holding from, up to the last minute starting before to.
func minuteBounds(from, to time.Time) (lo, hi int64) {
	lo = unixMinute(from)
	hi = to.Unix()
	if to.Nanosecond() > 0 {
		hi++
	}
	return lo, hi
}

// serviceField is a service's field in a minute hash, and the start of its
// problem and region fields.
func serviceField(id uint) string { return strconv.FormatUint(uint64(id), 10) }
