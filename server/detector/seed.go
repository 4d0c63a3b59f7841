package detector

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/outcry/outcry/models"
)

// tracked is the runner's state for one service: the global series, the
// series of its busiest regions, and what is left to persist.
type tracked struct {
	svc      models.Service
	global   *Series
	regions  map[string]*Series
	observed int64 // unix start of the next minute to learn
	last15   models.Counts
	bands    []*models.Band // chart baseline, one per chart bucket
	bandsAt  int64          // the bucket the bands were computed in
	// bandsFresh: the bands were computed whole in bandsAt (not only moved
	// on at its start: refreshBands)
	bandsFresh bool
	unsaved    map[string]pendingSave
	savedAt    map[string]time.Time
	shown      []models.Bucket // the chart series last published (shared with readers: never written)
	shownHash  uint64          // seriesHash(shown)
	// shownFrom: what shown was built from when no live count went into
	// it (zero otherwise): the same inputs build the same series again
	// (chartSeries)
	shownFrom chartKey
	bandsGen  uint32 // one more each time bands is replaced (chartKey)
	// spare is memory for the next chart series, made by the learner's
	// worker (learnedBands), taken by the first series shown
	spare []models.Bucket
	// savedUntil: the learned-until of the models' last save (0: none
	// saved by this runner or loaded from a save); savemodels.go
	savedUntil int64
	// learning: a placeholder while the service's models learn in the
	// background (learn.go); it is shown, never judged, never saved
	learning bool
}

// pendingSave is an incident change not yet persisted: the incident and the
// events to announce, in order.
type pendingSave struct {
	inc    *models.Incident
	events []string
}

type stateKey struct {
	service uint
	scope   string
}

type restoredState struct {
	state TrackerState
	open  *models.Incident
}

// Regions get a series of their own when they average at least this many
// counted reports an hour over the seeded history, or when this many arrive
// within 15 minutes; at most maxRegions per service.
const (
	regionMinPerHour = 1.0
	regionBurst      = 10
	maxRegions       = 12
)

// restore loads open incidents and detector states saved before a restart.
func (r *Runner) restore(ctx context.Context) error {
	open, err := r.Incidents.OpenIncidents(ctx)
	if err != nil {
		return err
	}
	states, err := r.Incidents.DetectorStates(ctx)
	if err != nil {
		return err
	}
	r.restored = map[stateKey]restoredState{}
	for _, st := range states {
		var ts TrackerState
		if json.Unmarshal(st.State, &ts) == nil {
			r.restored[stateKey{st.ServiceID, st.Scope}] = restoredState{state: ts}
		}
	}
	for i := range open {
		in := open[i]
		k := stateKey{in.ServiceID, in.Scope}
		rs := r.restored[k]
		rs.open = &in
		r.restored[k] = rs
	}
	return nil
}

// newSeries makes a series for a service and scope, restored from before a
// restart when there is something to restore.
func (r *Runner) newSeries(svc models.Service, scope string) *Series {
	p := r.Params
	p.ColdStart = svc.ColdStartThreshold()
	return r.restoredSeries(NewSeries(p, svc.ID, scope), svc, scope)
}

// restoredSeries gives s the incident state restored for svc and scope, if
// any.
func (r *Runner) restoredSeries(s *Series, svc models.Service, scope string) *Series {
	if rs, ok := r.restored[stateKey{svc.ID, scope}]; ok {
		rs.state.ServiceID, rs.state.Scope = svc.ID, scope
		s.Tracker = RestoreTracker(rs.state, rs.open)
	}
	return s
}

// seed creates the state of services that appeared after the start (the
// start's own are learned in the background: learn.go), teaching their
// models the rolled-up history (global and busy regions), zeros included.
// Only the services being seeded are read: a service created at run time
// costs its own history, not the catalogue's.
func (r *Runner) seed(ctx context.Context, services []models.Service, now time.Time) error {
	fresh := make(map[uint]models.Service)
	for _, svc := range services {
		if r.tracked[svc.ID] == nil {
			fresh[svc.ID] = svc
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	end := models.BucketOf(now)
	err := r.History.HistoryOf(ctx, end.Add(-seedSpan), freshIDs(fresh, len(services)), func(id uint, rows []models.BucketTotal) error {
		if svc, ok := fresh[id]; ok {
			delete(fresh, id)
			r.tracked[id] = r.seeded(svc, groupHistory(rows), end)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, svc := range fresh { // services without history since seedSpan
		r.tracked[svc.ID] = r.seeded(svc, nil, end)
	}
	return nil
}

// seeded is one service's state learned from its history h (nil: none).
// It touches nothing of the runner's but what it reads (learners call it
// concurrently).
func (r *Runner) seeded(svc models.Service, h *history, end time.Time) *tracked {
	tr := &tracked{svc: svc, global: r.newSeries(svc, models.ScopeGlobal), regions: map[string]*Series{},
		observed: end.Unix(), unsaved: map[string]pendingSave{}, savedAt: map[string]time.Time{}}
	start := models.BucketOf(svc.CreatedAt).Unix()
	if h != nil {
		start = min(start, h.first)
	}
	start = max(start, end.Add(-seedSpan).Unix())
	if start >= end.Unix() {
		// Nothing to learn from yet (a service created in this very
		// bucket): start the series with an empty minute just before it,
		// so the cold-start rule can judge the minutes that follow even
		// before the first of them is complete. Without it a burst in
		// the first minute of a bucket went unjudged for the service,
		// and a region (which starts the same way) alarmed alone.
		tr.global.Advance(end.Add(-time.Minute), time.Minute, 0)
		return tr
	}
	var global map[int64]float64
	if h != nil {
		global = h.global
	}
	teach(tr.global, global, start, end.Unix())
	if h == nil {
		return tr
	}
	hours := float64(end.Unix()-start) / 3600
	for _, region := range busiest(h.regions, hours) {
		s := r.newSeries(svc, region)
		teach(s, h.regions[region], start, end.Unix())
		tr.regions[region] = s
	}
	return tr
}

// teach feeds a series every 15-minute bucket in [start, end), zeros too.
func teach(s *Series, counts map[int64]float64, start, end int64) {
	step := int64(models.BucketSize / time.Second)
	for b := start; b < end; b += step {
		s.Learn(time.Unix(b, 0).UTC(), models.BucketSize, counts[b])
	}
	s.Settle()
}

// busiest are the regions with enough history for a baseline of their own.
func busiest(regions map[string]map[int64]float64, hours float64) []string {
	type rt struct {
		code  string
		total float64
	}
	var list []rt
	for code, m := range regions {
		var t float64
		for _, v := range m {
			t += v
		}
		if code != models.UnknownRegion && hours > 0 && t/hours >= regionMinPerHour {
			list = append(list, rt{code, t})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].total > list[j].total })
	out := make([]string, 0, min(len(list), maxRegions))
	for i := 0; i < len(list) && i < maxRegions; i++ {
		out = append(out, list[i].code)
	}
	return out
}
