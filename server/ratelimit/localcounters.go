package ratelimit

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/outcry/outcry/models"
)

const counterShards = 16

// counterStore holds per-minute counters in process, sharded by service so
// busy services do not contend, each minute kept CounterTTL after its last
// increment (like the Redis hash's PEXPIRE).
type counterStore struct {
	ttl    time.Duration
	shards [counterShards]counterShard
}

type counterShard struct {
	mu       sync.Mutex
	minutes  map[int64]*localMinute
	nextTrim int64
	_        [40]byte
}

type localMinute struct {
	expires  int64 // unix nanos
	services map[uint]*models.Counts
}

func newCounterStore(ttl time.Duration) *counterStore {
	c := &counterStore{ttl: ttl}
	for i := range c.shards {
		c.shards[i].minutes = make(map[int64]*localMinute)
	}
	return c
}

// add counts by (1, or -1 to take a report back) one report of service in
// minute.
func (c *counterStore) add(service uint, minute int64, problem, region string, by int, nowN int64) {
	sh := &c.shards[service%counterShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if nowN >= sh.nextTrim {
		sh.trim(nowN, c.ttl)
	}
	lm := sh.minutes[minute]
	if lm == nil {
		lm = &localMinute{services: make(map[uint]*models.Counts)}
		sh.minutes[minute] = lm
	}
	lm.expires = nowN + int64(c.ttl)
	cnt := lm.services[service]
	if cnt == nil {
		cnt = &models.Counts{Problems: make(map[string]int), Regions: make(map[string]int)}
		lm.services[service] = cnt
	}
	cnt.Total += by
	if problem != "" {
		cnt.Problems[problem] += by
	}
	if region != "" {
		cnt.Regions[region] += by
	}
}

// trim drops expired minutes of every shard.
func (c *counterStore) trim(nowN int64) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.trim(nowN, c.ttl)
		sh.mu.Unlock()
	}
}

// trim drops expired minutes; called with sh.mu held.
func (sh *counterShard) trim(nowN int64, ttl time.Duration) {
	sh.nextTrim = nowN + int64(min(time.Minute, ttl))
	for m, lm := range sh.minutes {
		if lm.expires <= nowN {
			delete(sh.minutes, m)
		}
	}
}

// minutes copies out the live minutes lo <= m < hi, oldest first.
func (c *counterStore) minutes(lo, hi, nowN int64) []models.MinuteCounts {
	byMinute := make(map[int64]map[uint]models.Counts)
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for m, lm := range sh.minutes {
			if m < lo || m >= hi || lm.expires <= nowN {
				continue
			}
			svc := byMinute[m]
			if svc == nil {
				svc = make(map[uint]models.Counts)
				byMinute[m] = svc
			}
			for id, cnt := range lm.services {
				svc[id] = copyCounts(cnt)
			}
		}
		sh.mu.Unlock()
	}
	if len(byMinute) == 0 {
		return nil
	}
	out := make([]models.MinuteCounts, 0, len(byMinute))
	for _, m := range slices.Sorted(maps.Keys(byMinute)) {
		out = append(out, models.MinuteCounts{Minute: m, Services: byMinute[m]})
	}
	return out
}

// copyCounts returns c with maps of its own (nil when empty, like Redis).
func copyCounts(c *models.Counts) models.Counts {
	out := models.Counts{Total: c.Total}
	if len(c.Problems) > 0 {
		out.Problems = maps.Clone(c.Problems)
	}
	if len(c.Regions) > 0 {
		out.Regions = maps.Clone(c.Regions)
	}
	return out
}

// mergeMinutes adds b into a (both oldest first) and returns the union,
// oldest first. a's maps may be modified.
func mergeMinutes(a, b []models.MinuteCounts) []models.MinuteCounts {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]models.MinuteCounts, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].Minute < b[j].Minute):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].Minute < a[i].Minute:
			out = append(out, b[j])
			j++
		default:
			for id, c := range b[j].Services {
				cur := a[i].Services[id]
				cur.Add(c)
				a[i].Services[id] = cur
			}
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}
