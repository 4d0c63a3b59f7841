package detector

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// dec is a hand-made decision at minute m of t0.
func dec(m int, lv models.Level, recent float64) Decision {
	at := t0.Add(time.Duration(m) * time.Minute)
	return Decision{At: at, Level: lv, Since: at.Add(-5 * time.Minute), Actual: recent, Expected: 10,
		Ratio: recent / 10, Significance: recent / 10, Recent: recent, RecentExpected: 10}
}

// recovered marks a decision as the recovery test's: normal since minute from.
func recovered(d Decision, from int) Decision {
	d.Recovered, d.RecoveredSince = true, t0.Add(time.Duration(from)*time.Minute)
	return d
}

// TestTrackerTransitions steps the state machine on hand-made decisions:
// it opens on the first elevated decision (at the start of its evidence),
// escalates, never de-escalates, resolves on the recovery test only (at the
// moment the counts were back), re-opens the same incident within
// ReopenWithin, and opens a new one after that.
func TestTrackerTransitions(t *testing.T) {
	p := DefaultParams()
	tr := NewTracker(7, "DE")
	steps := []struct {
		d    Decision
		want Transition
	}{
		{dec(0, models.LevelOK, 10), TransitionNone},
		{dec(1, models.LevelWarning, 40), TransitionOpened},
		{dec(2, models.LevelOutage, 90), TransitionEscalated},
		{dec(3, models.LevelOutage, 120), TransitionUpdated}, // stronger evidence, new peak
		{dec(4, models.LevelWarning, 60), TransitionNone},    // no de-escalation
		{dec(5, models.LevelOK, 10), TransitionNone},         // quiet is not recovered
		{dec(30, models.LevelOK, 10), TransitionNone},
		{recovered(dec(31, models.LevelOK, 10), 12), TransitionResolved},
		{dec(70, models.LevelOK, 10), TransitionNone},
		{dec(80, models.LevelWarning, 50), TransitionReopened}, // 68 minutes after it was back
		{recovered(dec(120, models.LevelOK, 10), 100), TransitionResolved},
		{dec(100+int(p.ReopenWithin/time.Minute)+1, models.LevelWarning, 50), TransitionOpened},
	}
	var first *models.Incident
	for i, st := range steps {
		if got := tr.Step(st.d, p); got != st.want {
			t.Fatalf("step %d: %s, want %s", i, got, st.want)
		}
		inc := tr.Incident
		switch {
		case i == 1:
			first = inc
			if inc.ServiceID != 7 || inc.Scope != "DE" || inc.Level != models.LevelWarning || !inc.StartedAt.Equal(t0.Add(-4*time.Minute)) || inc.Rule == "" {
				t.Fatalf("opened incident %+v", inc)
			}
		case i == 7:
			if inc.ResolvedAt == nil || !inc.ResolvedAt.Equal(t0.Add(12*time.Minute)) || inc.Peak != 120 || inc.Level != models.LevelOutage {
				t.Fatalf("resolved incident %+v", inc)
			}
		case st.want == TransitionReopened:
			if inc != first || inc.ResolvedAt != nil || !tr.Open() {
				t.Fatalf("re-opened %+v, want the first incident open again", inc)
			}
		case i == len(steps)-1:
			if inc == first || inc.Level != models.LevelWarning {
				t.Fatalf("after ReopenWithin: %+v, want a new incident", inc)
			}
		}
	}
	if old := tr.Step(dec(5, models.LevelOutage, 999), p); old != TransitionNone {
		t.Fatalf("a decision older than the last one stepped: %s", old)
	}
}

// TestTrackerRestart: the state survives JSON and a restart neither
// re-opens nor forgets: an open incident stays open and resolves on the
// recovery test; a resolved one is still continued within ReopenWithin.
func TestTrackerRestart(t *testing.T) {
	p := DefaultParams()
	roundTrip := func(tr *Tracker) *Tracker {
		t.Helper()
		stateJSON, err := json.Marshal(tr.State)
		if err != nil {
			t.Fatal(err)
		}
		var st TrackerState
		if err := json.Unmarshal(stateJSON, &st); err != nil {
			t.Fatal(err)
		}
		var open *models.Incident
		if tr.Open() {
			incJSON, _ := json.Marshal(tr.Incident)
			open = &models.Incident{}
			if err := json.Unmarshal(incJSON, open); err != nil {
				t.Fatal(err)
			}
		}
		return RestoreTracker(st, open)
	}

	tr := NewTracker(3, models.ScopeGlobal)
	if tr.Step(dec(0, models.LevelOutage, 300), p) != TransitionOpened {
		t.Fatal("did not open")
	}
	back := roundTrip(tr)
	if ev := back.Step(dec(2, models.LevelOutage, 300), p); ev == TransitionOpened || !back.Open() {
		t.Fatalf("after restart: %s, open %v", ev, back.Open())
	}
	if ev := back.Step(recovered(dec(30, models.LevelOK, 10), 10), p); ev != TransitionResolved {
		t.Fatalf("after restart: %s, want resolved", ev)
	}
	back.Step(dec(31, models.LevelOK, 10), p)
	again := roundTrip(back)
	if ev := again.Step(dec(60, models.LevelWarning, 50), p); ev != TransitionReopened || again.Incident.ServiceID != 3 {
		t.Fatalf("resolved, restarted, trouble again within ReopenWithin: %s %+v, want re-opened", ev, again.Incident)
	}

	// Without the small state, an open incident still does not re-open.
	fresh := RestoreTracker(TrackerState{}, again.Incident)
	if ev := fresh.Step(dec(70, models.LevelOutage, 300), p); ev == TransitionOpened || fresh.State.ServiceID != 3 {
		t.Fatalf("fresh restore: %s, state %+v", ev, fresh.State)
	}
}
