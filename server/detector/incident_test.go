package detector

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
)

// TestRecoveryHysteresis: a 20-minute outage, then recovery, then a
// flapping tail: one incident, resolved once, never re-opened.
func TestRecoveryHysteresis(t *testing.T) {
	p := DefaultParams()
	s := newSim(p, 5)
	base := usual(20)
	s.seed(14*24*time.Hour, base)
	s.run(12*time.Hour, 1, base)
	start := s.now
	s.run(8*time.Hour, 1, func(t time.Time) float64 {
		d := t.Sub(start)
		switch {
		case d < 20*time.Minute:
			return 8 * base(t)
		case d >= 25*time.Minute && d < 27*time.Minute: // flaps back briefly
			return 4 * base(t)
		}
		return base(t)
	})
	if o, r := s.count(EventOpened), s.count(EventResolved); o != 1 || r != 1 {
		t.Fatalf("opened %d, resolved %d, want 1 and 1: %+v", o, r, s.events)
	}
	res, _ := s.first(EventResolved)
	if d := res.Sub(start); d < 20*time.Minute+p.ResolveAfter {
		t.Errorf("resolved %s after the start; hysteresis wants at least %s", d, 20*time.Minute+p.ResolveAfter)
	}
	if s.tr.Incident != nil && s.tr.Incident.Open() {
		t.Errorf("incident still open")
	}
}

// TestFlappingOutage: bursts separated by short normal spells are one
// incident.
func TestFlappingOutage(t *testing.T) {
	p := DefaultParams()
	s := newSim(p, 6)
	base := usual(10)
	s.seed(14*24*time.Hour, base)
	s.run(12*time.Hour, 1, base)
	start := s.now
	s.run(6*time.Hour, 1, func(t time.Time) float64 {
		d := t.Sub(start)
		if d < 2*time.Hour && d%(20*time.Minute) < 6*time.Minute {
			return 15 * base(t)
		}
		return base(t)
	})
	if o, r := s.count(EventOpened), s.count(EventResolved); o != 1 || r != 1 {
		t.Fatalf("opened %d, resolved %d, want 1 and 1: %+v", o, r, s.events)
	}
}

// TestTrackerTransitions steps the state machine on hand-made decisions.
func TestTrackerTransitions(t *testing.T) {
	p := DefaultParams()
	p.OpenEvals = 2
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	dec := func(m int, lv models.Level, quiet bool, actual float64) Decision {
		return Decision{At: at(m), Level: lv, Quiet: quiet, Window: 5 * time.Minute, Actual: actual, Expected: 10,
			Ratio: actual / 10, Significance: actual / 10}
	}
	tr := NewTracker(7, "DE")
	steps := []struct {
		d    Decision
		want Event
	}{
		{dec(0, models.LevelWarning, false, 40), EventNone}, // one hot evaluation is not enough
		{dec(1, models.LevelOK, true, 10), EventNone},       // streak broken
		{dec(2, models.LevelWarning, false, 40), EventNone},
		{dec(3, models.LevelWarning, false, 45), EventOpened},
		{dec(4, models.LevelOutage, false, 90), EventEscalated},
		{dec(5, models.LevelOutage, false, 120), EventUpdated}, // new peak
		{dec(6, models.LevelWarning, false, 60), EventNone},    // no de-escalation, no flapping
		{dec(7, models.LevelOK, true, 10), EventNone},          // quiet starts
		{dec(30, models.LevelOK, false, 25), EventNone},        // not yet quiet long enough; noise resets it
		{dec(31, models.LevelOK, true, 10), EventNone},
		{dec(31+int(p.ResolveAfter/time.Minute), models.LevelOK, true, 10), EventResolved},
		{dec(70, models.LevelOK, true, 10), EventNone},
	}
	for i, st := range steps {
		if got := tr.Step(st.d, p); got != st.want {
			t.Fatalf("step %d: %s, want %s", i, got, st.want)
		}
		if st.want == EventOpened {
			inc := tr.Incident
			if inc.ServiceID != 7 || inc.Scope != "DE" || inc.Level != models.LevelWarning || !inc.StartedAt.Equal(at(2)) || inc.Rule == "" {
				t.Fatalf("opened incident %+v", inc)
			}
		}
		if st.want == EventResolved {
			inc := tr.Incident
			if inc.ResolvedAt == nil || !inc.ResolvedAt.Equal(at(31)) || inc.Peak != 120 || inc.Level != models.LevelOutage {
				t.Fatalf("resolved incident %+v", inc)
			}
		}
	}
	if tr.Open() {
		t.Fatal("tracker still open")
	}
}

// TestTrackerRestart: the state survives JSON and a restart neither
// re-opens nor forgets the open incident.
func TestTrackerRestart(t *testing.T) {
	p := DefaultParams()
	tr := NewTracker(3, models.ScopeGlobal)
	hot := Decision{At: t0, Level: models.LevelOutage, Window: 5 * time.Minute, Actual: 300, Expected: 20, Ratio: 15, Significance: 40}
	if tr.Step(hot, p) != EventOpened {
		t.Fatal("did not open")
	}
	quiet := Decision{At: t0.Add(time.Minute), Level: models.LevelOK, Quiet: true, Window: 5 * time.Minute, Actual: 20, Expected: 20}
	tr.Step(quiet, p)

	stateJSON, err := json.Marshal(tr.State)
	if err != nil {
		t.Fatal(err)
	}
	incJSON, _ := json.Marshal(tr.Incident)
	var st TrackerState
	var inc models.Incident
	if err := json.Unmarshal(stateJSON, &st); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(incJSON, &inc); err != nil {
		t.Fatal(err)
	}
	back := RestoreTracker(st, &inc)
	hot.At = t0.Add(2 * time.Minute)
	if ev := back.Step(hot, p); ev == EventOpened {
		t.Fatal("re-opened after restart")
	}
	quiet.At = t0.Add(3 * time.Minute)
	back.Step(quiet, p)
	quiet.At = t0.Add(3*time.Minute + p.ResolveAfter)
	if ev := back.Step(quiet, p); ev != EventResolved {
		t.Fatalf("after restart: %s, want resolved", ev)
	}

	// Without the small state, an open incident still does not re-open.
	var inc2 models.Incident
	if err := json.Unmarshal(incJSON, &inc2); err != nil {
		t.Fatal(err)
	}
	fresh := RestoreTracker(TrackerState{}, &inc2)
	hot.At = t0.Add(10 * time.Minute)
	if ev := fresh.Step(hot, p); ev == EventOpened || fresh.State.ServiceID != 3 {
		t.Fatalf("fresh restore: %s, state %+v", ev, fresh.State)
	}
}
