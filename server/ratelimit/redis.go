package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/redis/go-redis/v9"
)

// Redis is the Redis-backed limiter and counter store: shared by every
// replica, one round trip per report. It needs a single Redis node (or a
// primary with replicas): the admission script touches several keys, which
// Redis Cluster would only allow within one hash slot.
type Redis struct {
	rdb    *redis.Client
	cfg    Config
	script *redis.Script
	deny   *denyCache
	now    func() time.Time

	reporterPrefix, networkPrefix, dedupePrefix, counterPrefix string

	limitArgs  [6]any // reporter and network burst, rate, period
	dedupeArg  any
	counterArg any

	minuteKey atomic.Pointer[minuteKey] // the current minute's key, cached
	batch     *batcher
}

// Group admission sizes: at most maxBatch admissions per script call, at
// most maxFlushers calls in flight (one being answered while the next fills).
const (
	maxBatch    = 128
	maxFlushers = 2
)

type minuteKey struct {
	minute int64
	key    string
}

var (
	_ models.Admitter      = (*Redis)(nil)
	_ models.CounterReader = (*Redis)(nil)
)

// NewRedis returns the Redis limiter for cfg, with its own deny cache.
func NewRedis(rdb *redis.Client, cfg Config) (*Redis, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	return newRedis(rdb, cfg, newDenyCache(cfg.Reporter, cfg.Network, cfg.DenyCacheSize)), nil
}

// newRedis builds the limiter on a normalized cfg and a given deny cache.
func newRedis(rdb *redis.Client, cfg Config, deny *denyCache) *Redis {
	r := &Redis{
		rdb:            rdb,
		cfg:            cfg,
		script:         redis.NewScript(admitLua),
		deny:           deny,
		now:            time.Now,
		reporterPrefix: cfg.Prefix + "rl:r:",
		networkPrefix:  cfg.Prefix + "rl:n:",
		dedupePrefix:   cfg.Prefix + "dd:",
		counterPrefix:  cfg.Prefix + "cnt:",
		limitArgs: [6]any{
			cfg.Reporter.Burst, cfg.Reporter.Rate, cfg.Reporter.Period.Seconds(),
			cfg.Network.Burst, cfg.Network.Rate, cfg.Network.Period.Seconds(),
		},
		dedupeArg:  cfg.Dedupe.Milliseconds(),
		counterArg: cfg.CounterTTL.Milliseconds(),
	}
	r.batch = newBatcher(r.admitBatch, maxBatch, maxFlushers)
	return r
}

// Admit rate-limits, dedupes and counts a report in one round trip (it does
// not consult the deny cache: handlers call Denied first). Redis errors come
// back with code unavailable, an admission without reporter or network with
// code invalid.
func (r *Redis) Admit(ctx context.Context, a models.Admission) (models.Admittance, error) {
	if err := checkAdmission(a); err != nil {
		return models.Admittance{}, err
	}
	return r.admit(ctx, a)
}

// admit is Admit without the argument check; every error is Redis's.
func (r *Redis) admit(ctx context.Context, a models.Admission) (models.Admittance, error) {
	if a.At.IsZero() {
		a.At = r.now()
	}
	return r.batch.do(ctx, a)
}

// admitBatch runs the admission script once for every call in calls.
func (r *Redis) admitBatch(ctx context.Context, calls []*admitCall) {
	keys := make([]string, 0, 4*len(calls))
	args := make([]any, 0, 8+3*len(calls))
	args = append(args, r.limitArgs[0], r.limitArgs[1], r.limitArgs[2],
		r.limitArgs[3], r.limitArgs[4], r.limitArgs[5], r.dedupeArg, r.counterArg)
	for _, c := range calls {
		a := &c.a
		sid := serviceField(a.ServiceID)
		keys = append(keys,
			r.reporterPrefix+a.Reporter,
			r.networkPrefix+a.Network,
			r.dedupePrefix+sid+":"+a.Reporter,
			r.counterKey(unixMinute(a.At)),
		)
		args = append(args, sid, a.Problem, a.Region)
	}
	v, err := r.script.Run(ctx, r.rdb, keys, args...).Int64Slice()
	if err == nil && len(v) != 8*len(calls) {
		err = models.Errorf(models.CodeInternal, "admission script returned %d values for %d admissions", len(v), len(calls))
	} else if err != nil {
		err = models.Wrap(models.CodeUnavailable, err, "rate limiter unavailable")
	}
	if err != nil {
		for _, c := range calls {
			c.err = err
		}
		return
	}
	now := r.now()
	for i, c := range calls {
		c.d = r.decision(c.a, v[8*i:8*i+8], now)
	}
}

// decision reads one admission's 8 script values and records denials in
// the deny cache.
func (r *Redis) decision(a models.Admission, v []int64, now time.Time) models.Admittance {
	allowed, counted := v[0] == 1, v[1] == 1
	rs, ns := scriptLimit(v[2:5]), scriptLimit(v[5:8])
	if !allowed {
		if rs.denied {
			r.deny.record(kindReporter, a.Reporter, now, rs)
		}
		if ns.denied {
			r.deny.record(kindNetwork, a.Network, now, ns)
		}
	}
	return decide(allowed, counted, r.cfg.Reporter, r.cfg.Network, rs, ns)
}

// scriptLimit reads remaining, retry_after (µs) and reset_after (µs).
func scriptLimit(v []int64) limitState {
	s := limitState{
		remaining: int(v[0]),
		reset:     time.Duration(v[2]) * time.Microsecond,
	}
	if v[1] >= 0 {
		s.denied = true
		s.remaining = 0
		s.retry = time.Duration(v[1]) * time.Microsecond
	}
	return s
}

func (r *Redis) counterKey(minute int64) string {
	if mk := r.minuteKey.Load(); mk != nil && mk.minute == minute {
		return mk.key
	}
	mk := &minuteKey{minute: minute, key: r.counterPrefix + strconv.FormatInt(minute, 10)}
	r.minuteKey.Store(mk)
	return mk.key
}

// Denied answers a cached denial of reporter or network without calling
// Redis; see the package documentation.
func (r *Redis) Denied(reporter, network string, now time.Time) (models.Admittance, bool) {
	return r.deny.denied(reporter, network, now)
}

// Minutes reads the counters of every minute in [from, to) (starting with
// the minute holding from) in one pipelined round trip. Minutes older than
// CounterTTL before to are not read: their counters have expired.
func (r *Redis) Minutes(ctx context.Context, from, to time.Time) ([]models.MinuteCounts, error) {
	lo, hi := minuteBounds(from, to)
	if oldest := unixMinute(to.Add(-r.cfg.CounterTTL - time.Minute)); lo < oldest {
		lo = oldest
	}
	if lo >= hi {
		return nil, nil
	}
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, 0, (hi-lo+59)/60)
	for m := lo; m < hi; m += 60 {
		cmds = append(cmds, pipe.HGetAll(ctx, r.counterPrefix+strconv.FormatInt(m, 10)))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, models.Wrap(models.CodeUnavailable, err, "counters unavailable")
	}
	var out []models.MinuteCounts
	for i, cmd := range cmds {
		h := cmd.Val()
		if len(h) == 0 {
			continue
		}
		mc, err := parseMinute(lo+int64(i)*60, h)
		if err != nil {
			return nil, models.Wrap(models.CodeInternal, err, "malformed counters")
		}
		out = append(out, mc)
	}
	return out, nil
}

// parseMinute reads one minute hash: "{id}", "{id}|p|{problem}",
// "{id}|r|{region}".
func parseMinute(minute int64, h map[string]string) (models.MinuteCounts, error) {
	mc := models.MinuteCounts{Minute: minute, Services: make(map[uint]models.Counts)}
	for field, val := range h {
		n, err := strconv.Atoi(val)
		if err != nil {
			return mc, fmt.Errorf("field %q: %w", field, err)
		}
		idPart, rest, dim := field, "", byte(0)
		if i := strings.IndexByte(field, '|'); i >= 0 {
			idPart = field[:i]
			if len(field) < i+3 || field[i+2] != '|' {
				return mc, fmt.Errorf("field %q: unknown shape", field)
			}
			dim, rest = field[i+1], field[i+3:]
		}
		id, err := strconv.ParseUint(idPart, 10, 0)
		if err != nil {
			return mc, fmt.Errorf("field %q: %w", field, err)
		}
		c := mc.Services[uint(id)]
		switch dim {
		case 0:
			c.Total += n
		case 'p':
			if c.Problems == nil {
				c.Problems = make(map[string]int)
			}
			c.Problems[rest] += n
		case 'r':
			if c.Regions == nil {
				c.Regions = make(map[string]int)
			}
			c.Regions[rest] += n
		default:
			return mc, fmt.Errorf("field %q: unknown dimension", field)
		}
		mc.Services[uint(id)] = c
	}
	return mc, nil
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	return r.rdb.Ping(ctx).Err()
}
