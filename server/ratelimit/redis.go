package ratelimit

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/redis/go-redis/v9"
)

// Recall returns the counted reports stored since a moment: what restores
// the dedupe and evidence markers after Redis lost them (or before the
// in-process twin takes over).
type Recall func(ctx context.Context, since time.Time) ([]models.CountedMark, error)

// Redis is the Redis-backed limiter and counter store: shared by every
// replica, one round trip per report. It works on a single Redis, a
// primary with Sentinel, or a Redis Cluster: the keys of one admission
// share a hash tag chosen by its network ({0} … {Shards-1}), and
// admissions are batched per tag, so every script call touches one slot.
type Redis struct {
	rdb    redis.UniversalClient
	cfg    Config
	admit_ *redis.Script
	undo_  *redis.Script
	mark_  *redis.Script
	deny   *denyCache
	now    func() time.Time
	recall Recall
	clock  redisClock
	shards []*shard
	recent recent // the last admissions counted, maybe not yet stored
	twin   *Local // the Limiter's twin, which keeps its leases (nil: none)

	head []any // ARGV 2-10 of every admission call
}

// shard is one hash tag's keys and batch queue.
type shard struct {
	prefix string // Config.Prefix + "{i}:"
	seeded string // the key whose absence says Redis lost this shard's data
	batch  *batcher
	seedMu sync.Mutex
}

// Group admission sizes: at most maxBatch admissions per script call, at
// most maxFlushers calls in flight per shard (one being answered while the
// next fills).
const (
	maxBatch    = 128
	maxFlushers = 2
)

var (
	_ models.Admitter      = (*Redis)(nil)
	_ models.CounterReader = (*Redis)(nil)
)

// NewRedis returns the Redis limiter for cfg, with its own deny cache.
// recall (may be nil) restores markers when Redis has lost its data.
func NewRedis(rdb redis.UniversalClient, cfg Config, recall Recall) (*Redis, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	return newRedis(rdb, cfg, newDenyCache(cfg.Reporter, cfg.Network, cfg.DenyCacheSize), recall), nil
}

// newRedis builds the limiter on a normalized cfg and a given deny cache.
func newRedis(rdb redis.UniversalClient, cfg Config, deny *denyCache, recall Recall) *Redis {
	r := &Redis{
		rdb:    rdb,
		cfg:    cfg,
		admit_: redis.NewScript(admitLua),
		undo_:  redis.NewScript(undoLua),
		mark_:  redis.NewScript(markLua),
		deny:   deny,
		now:    time.Now,
		recall: recall,
		head: []any{
			cfg.Reporter.Burst, cfg.Reporter.Rate, cfg.Reporter.Period.Seconds(),
			cfg.Network.Burst, cfg.Network.Rate, cfg.Network.Period.Seconds(),
			cfg.Dedupe.Milliseconds(), cfg.CounterTTL.Milliseconds(), cfg.NetworkEvidence,
		},
	}
	for i := range cfg.Shards {
		sh := &shard{prefix: cfg.Prefix + "{" + strconv.Itoa(i) + "}:"}
		sh.seeded = sh.prefix + "seeded"
		sh.batch = newBatcher(func(ctx context.Context, calls []*admitCall) { r.admitBatch(ctx, sh, calls) }, maxBatch, maxFlushers)
		r.shards = append(r.shards, sh)
	}
	return r
}

// shardOf is the shard of a network: the same on every replica.
func (r *Redis) shardOf(network string) *shard {
	if len(r.shards) == 1 {
		return r.shards[0]
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(network))
	return r.shards[h.Sum32()%uint32(len(r.shards))]
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
	return r.admitWith(ctx, a, leaseDecision{})
}

// admitWith is admit with the Limiter's lease decision for a's keys.
func (r *Redis) admitWith(ctx context.Context, a models.Admission, ld leaseDecision) (models.Admittance, error) {
	if a.At.IsZero() {
		a.At = r.now()
	}
	d, err := r.shardOf(a.Network).batch.do(ctx, a, ld)
	if err != nil && ctx.Err() != nil && r.twin != nil {
		// Perhaps never sent: take the leases back (if its batch does run,
		// nobody gets its answer, so nothing was consumed for the caller).
		r.twin.settle(ld, false, limitState{}, limitState{}, true)
	}
	return d, err
}

// errLate is a batch Redis refused because it ran past its deadline.
var errLate = models.Errorf(models.CodeUnavailable, "rate limiter answered too late")

// admitBatch runs the admission script once for every call in calls (all
// of one shard); when the shard has lost its data it restores the markers
// from the store first.
func (r *Redis) admitBatch(ctx context.Context, sh *shard, calls []*admitCall) {
	v, err := r.runAdmit(ctx, sh, calls)
	if err == nil && v[0] == -1 {
		if err = r.seed(ctx, sh); err == nil {
			v, err = r.runAdmit(ctx, sh, calls)
		}
	}
	want := 2
	for _, c := range calls {
		want += replyLen(c.ld)
	}
	switch {
	case err != nil:
	case v[0] == -2:
		err = errLate
	case v[0] != 0 || len(v) != want:
		err = models.Errorf(models.CodeInternal, "admission script returned status %d and %d values for %d admissions", v[0], len(v), len(calls))
	}
	if err != nil {
		for _, c := range calls {
			c.err = err
			if r.twin != nil {
				r.twin.settle(c.ld, false, limitState{}, limitState{}, true)
			}
		}
		return
	}
	now := r.now()
	p := 2
	for _, c := range calls {
		n := replyLen(c.ld)
		c.d = r.decision(c.a, c.ld, v[p:p+n], now)
		p += n
	}
	r.recent.add(calls)
}

// replyLen is how many values the script answers for an admission: only
// the slot when both its keys were leased, else 8 (see admitLua).
func replyLen(ld leaseDecision) int {
	if ld.r.floor == leased && ld.n.floor == leased {
		return 1
	}
	return 8
}

// runAdmit sends one admission call with a deadline in Redis's time.
func (r *Redis) runAdmit(ctx context.Context, sh *shard, calls []*admitCall) ([]int64, error) {
	args := make([]any, 0, 11+8*len(calls))
	args = append(args, sh.prefix)
	args = append(args, r.head...)
	sent := time.Now()
	args = append(args, r.clock.deadline(sent, r.cfg.Deadline))
	for _, c := range calls {
		// Pointers into the call (alive until the batch is answered): go-redis
		// writes *string, *uint and *int64 as their values, and a pointer in an
		// interface is not an allocation, as a boxed string or int64 is.
		a := &c.a
		c.minute = unixMinute(a.At)
		var reporter any = &a.Reporter
		if c.ld.r.floor == leased && r.cfg.NetworkEvidence == 1 {
			reporter = "" // the script does not use it (see claim in admitLua)
		}
		args = append(args, reporter, &a.Network, &a.ServiceID, &a.Problem, &a.Region, &c.minute, &c.ld.r.floor, &c.ld.n.floor)
	}
	v, err := r.admit_.Run(ctx, r.rdb, []string{sh.seeded}, args...).Int64Slice()
	if err != nil {
		return nil, models.Wrap(models.CodeUnavailable, err, "rate limiter unavailable")
	}
	if len(v) < 2 {
		return nil, models.Errorf(models.CodeInternal, "admission script returned %d values", len(v))
	}
	r.clock.observe(sent, time.Now(), v[1])
	return v, nil
}

// decision reads one admission's script values (replyLen) and records
// denials in the deny cache. A leased key's state is the one judged in
// process.
func (r *Redis) decision(a models.Admission, ld leaseDecision, v []int64, now time.Time) models.Admittance {
	if len(v) == 1 {
		return decide(true, int(v[0]), r.cfg.Reporter, r.cfg.Network, ld.r.st, ld.n.st)
	}
	allowed, slot := v[0] == 1, int(v[1])
	rs, ns := scriptLimit(v[2:5]), scriptLimit(v[5:8])
	if ld.r.floor == leased {
		rs = ld.r.st
	}
	if ld.n.floor == leased {
		ns = ld.n.st
	}
	if r.twin != nil {
		r.twin.settle(ld, allowed, rs, ns, false)
	}
	if !allowed {
		if rs.denied {
			r.deny.record(kindReporter, a.Reporter, now, rs)
		}
		if ns.denied {
			r.deny.record(kindNetwork, a.Network, now, ns)
		}
	}
	return decide(allowed, slot, r.cfg.Reporter, r.cfg.Network, rs, ns)
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

// Undo takes back a counted report that could not be stored: its markers
// and its counts. It does nothing for a report that was not counted.
func (r *Redis) Undo(ctx context.Context, a models.Admission, d models.Admittance) error {
	if d.Slot <= 0 {
		return nil
	}
	if a.At.IsZero() {
		a.At = r.now()
	}
	sh := r.shardOf(a.Network)
	err := r.undo_.Run(ctx, r.rdb, []string{sh.seeded}, sh.prefix, a.Reporter, a.Network,
		serviceField(a.ServiceID), a.Problem, a.Region, unixMinute(a.At), d.Slot).Err()
	if err != nil {
		return models.Wrap(models.CodeUnavailable, err, "rate limiter unavailable")
	}
	r.recent.forget(a)
	return nil
}

// mark sets the markers of reports counted elsewhere (see markLua) and
// reports, for each, whether it was the first of its reporter and found a
// free slot of its network (false: a conflict). seal marks the shards
// seeded once their marks are in.
func (r *Redis) mark(ctx context.Context, marks []models.CountedMark, seal bool) ([]bool, error) {
	ok := make([]bool, len(marks))
	byShard := make(map[*shard][]int)
	for i, m := range marks {
		sh := r.shardOf(m.Network)
		byShard[sh] = append(byShard[sh], i)
	}
	if seal {
		for _, sh := range r.shards {
			if _, has := byShard[sh]; !has {
				byShard[sh] = nil
			}
		}
	}
	now := r.now()
	for sh, idx := range byShard {
		if err := r.markShard(ctx, sh, marks, idx, ok, now, seal); err != nil {
			return nil, err
		}
	}
	return ok, nil
}

// markShard sends one shard's marks in chunks; the last call seals.
func (r *Redis) markShard(ctx context.Context, sh *shard, marks []models.CountedMark, idx []int, ok []bool, now time.Time, seal bool) error {
	const chunk = 256
	for start := 0; ; start += chunk {
		part := idx[start:min(len(idx), start+chunk)]
		last := start+chunk >= len(idx)
		args := make([]any, 0, 3+4*len(part))
		sealArg := "0"
		if seal && last {
			sealArg = "1"
		}
		args = append(args, sh.prefix, r.cfg.NetworkEvidence, sealArg)
		sent := part[:0:0]
		for _, i := range part {
			m := marks[i]
			left := m.At.Add(r.cfg.Dedupe).Sub(now).Milliseconds()
			if left <= 0 || m.Reporter == "" {
				continue
			}
			network := m.Network
			if network == "" {
				network = m.Reporter // a report stored before networks were
			}
			args = append(args, m.Reporter, network, serviceField(m.ServiceID), left)
			sent = append(sent, i)
		}
		if len(sent) > 0 || sealArg == "1" {
			v, err := r.mark_.Run(ctx, r.rdb, []string{sh.seeded}, args...).Int64Slice()
			if err != nil {
				return models.Wrap(models.CodeUnavailable, err, "rate limiter unavailable")
			}
			for j, i := range sent {
				ok[i] = j < len(v) && v[j] == 1
			}
		}
		if last {
			return nil
		}
	}
}

// seed restores a shard that lost its data: the markers of every report
// stored as counted within the dedupe window and of those counted lately
// (recent: some may not be stored yet), then the seeded key. Until
// it is done the shard admits nothing, so no reporter or network counted
// before the loss is counted again.
func (r *Redis) seed(ctx context.Context, sh *shard) error {
	sh.seedMu.Lock()
	defer sh.seedMu.Unlock()
	if n, err := r.rdb.Exists(ctx, sh.seeded).Result(); err == nil && n == 1 {
		return nil // another batch (or replica) seeded it meanwhile
	}
	var marks []models.CountedMark
	if r.recall != nil {
		var err error
		if marks, err = r.recall(ctx, r.now().Add(-r.cfg.Dedupe)); err != nil {
			return models.Wrap(models.CodeUnavailable, err, "cannot restore the rate limiter's markers")
		}
	}
	marks = append(marks, r.recent.snapshot(nil)...)
	var mine []int
	for i, m := range marks {
		if r.shardOf(m.Network) == sh || (m.Network == "" && r.shardOf(m.Reporter) == sh) {
			mine = append(mine, i)
		}
	}
	return r.markShard(ctx, sh, marks, mine, make([]bool, len(marks)), r.now(), true)
}

// Denied answers a cached denial of reporter or network without calling
// Redis; see the package documentation.
func (r *Redis) Denied(reporter, network string, now time.Time) (models.Admittance, bool) {
	return r.deny.denied(reporter, network, now)
}

// Minutes reads the counters of every minute in [from, to) (starting with
// the minute holding from), of every shard, in one pipelined round trip.
// Minutes older than CounterTTL before to are not read: their counters have
// expired.
func (r *Redis) Minutes(ctx context.Context, from, to time.Time) ([]models.MinuteCounts, error) {
	lo, hi := minuteBounds(from, to)
	if oldest := unixMinute(to.Add(-r.cfg.CounterTTL - time.Minute)); lo < oldest {
		lo = oldest
	}
	if lo >= hi {
		return nil, nil
	}
	pipe := r.rdb.Pipeline()
	perMinute := len(r.shards)
	cmds := make([]*redis.MapStringStringCmd, 0, int(hi-lo+59)/60*perMinute)
	for m := lo; m < hi; m += 60 {
		suffix := "m:" + strconv.FormatInt(m, 10)
		for _, sh := range r.shards {
			cmds = append(cmds, pipe.HGetAll(ctx, sh.prefix+suffix))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, models.Wrap(models.CodeUnavailable, err, "counters unavailable")
	}
	var out []models.MinuteCounts
	for i := 0; i < len(cmds); i += perMinute {
		minute := lo + int64(i/perMinute)*60
		var mc models.MinuteCounts
		for _, cmd := range cmds[i : i+perMinute] {
			h := cmd.Val()
			if len(h) == 0 {
				continue
			}
			part, err := parseMinute(minute, h)
			if err != nil {
				return nil, models.Wrap(models.CodeInternal, err, "malformed counters")
			}
			if mc.Services == nil {
				mc = part
				continue
			}
			for id, c := range part.Services {
				cur := mc.Services[id]
				cur.Add(c)
				mc.Services[id] = cur
			}
		}
		if mc.Services != nil {
			out = append(out, mc)
		}
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
