package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store"
	"github.com/outcry/outcry/server/store/storetest"
)

// One lease, one holder at a time, terms that only rise; a fenced write of
// a tenure that is over (a paused leader waking up) is refused inside its
// own transaction, while the new leader's goes through and is stamped with
// its term.
func TestLeaseElectsOneAndFencesTheLast(t *testing.T) {
	ctx := context.Background()
	dbURL := storetest.Postgres(t)
	a, b := openURL(t, dbURL), openURL(t, dbURL)
	svc := service(t, a, "chatgpt")
	const ttl = 400 * time.Millisecond

	ta, ok, err := a.AcquireLease(ctx, "a", ttl)
	if err != nil || !ok || ta < 1 {
		t.Fatalf("first acquire: term %d ok %v (%v)", ta, ok, err)
	}
	if _, ok, err := b.AcquireLease(ctx, "b", ttl); ok || err != nil {
		t.Fatalf("b took a live lease (%v)", err)
	}
	if again, ok, _ := a.AcquireLease(ctx, "a", ttl); !ok || again != ta {
		t.Fatalf("renewal: term %d ok %v; want the same term %d", again, ok, ta)
	}
	fa := a.Fenced(store.Fence{Holder: "a", Term: ta})
	ch := incidentChange(svc, time.Now().UTC())
	if err := fa.ApplyIncident(ctx, ch); err != nil {
		t.Fatalf("the leader's fenced write: %v", err)
	}

	// a stops renewing (paused); b takes over once the lease has lapsed.
	var tb int64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if tb, ok, err = b.AcquireLease(ctx, "b", 10*time.Second); ok || err != nil || time.Now().After(deadline) {
			break
		}
	}
	if !ok || tb != ta+1 {
		t.Fatalf("takeover: term %d ok %v (%v); want %d", tb, ok, err, ta+1)
	}
	// a wakes up: every fenced write of its tenure is refused.
	ch2 := incidentChange(svc, time.Now().UTC())
	ch2.EventType = models.EventIncidentResolved
	ch2.Incident = ch.Incident
	if err := fa.ApplyIncident(ctx, ch2); !errors.Is(err, store.ErrNotLeader) {
		t.Errorf("the old leader's incident write: %v; want ErrNotLeader", err)
	}
	now := time.Now().UTC()
	hook := models.Webhook{ID: "wh_1", URL: "https://example.com/h", Secret: models.NewSecret(), CreatedAt: now, UpdatedAt: now}
	if err := a.CreateWebhook(ctx, &hook); err != nil {
		t.Fatal(err)
	}
	ping, _ := models.NewPingEvent(hook.ID, now)
	if err := a.AddEvent(ctx, &ping); err != nil {
		t.Fatal(err)
	}
	if n, err := b.FanOut(ctx, now, 10); n != 2 || err != nil { // the opening and the ping
		t.Fatalf("fan-out: %d (%v)", n, err)
	}
	claim := models.Claim{Now: now.Add(time.Second), Max: 5, Lease: time.Minute, Token: "old"}
	if got, err := fa.ClaimDeliveries(ctx, claim); !errors.Is(err, store.ErrNotLeader) || len(got) != 0 {
		t.Errorf("the old leader's claim: %d deliveries (%v); want ErrNotLeader", len(got), err)
	}
	if err := fa.PutStatuses(ctx, 1, []models.ServiceStatus{{Service: svc}}, nil); !errors.Is(err, store.ErrNotLeader) {
		t.Errorf("the old leader's status write: %v; want ErrNotLeader", err)
	}
	fb := b.Fenced(store.Fence{Holder: "b", Term: tb})
	if err := fb.ApplyIncident(ctx, ch2); err != nil {
		t.Fatalf("the new leader's write: %v", err)
	}
	claim.Token = "new"
	if got, err := fb.ClaimDeliveries(ctx, claim); err != nil || len(got) != 1 || got[0].Event == nil || got[0].Webhook == nil {
		t.Errorf("the new leader's claim: %+v (%v); want one delivery (one at a time per subscription)", got, err)
	}
	db := storetest.Raw(t, dbURL)
	var evs []models.Event
	db.Where("type <> ?", models.EventPing).Order("occurred_at, id").Find(&evs)
	if len(evs) != 2 || evs[0].Term != ta || evs[1].Term != tb || evs[1].Type != models.EventIncidentResolved {
		t.Errorf("events %+v; want opened under %d, resolved under %d", evs, ta, tb)
	}
	var incidents int64
	db.Model(&models.Incident{}).Count(&incidents)
	if incidents != 1 {
		t.Errorf("%d incidents; want 1", incidents)
	}

	// b resigns: a takes over at once, with the next term.
	if err := b.ReleaseLease(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if t3, ok, err := a.AcquireLease(ctx, "a", ttl); !ok || err != nil || t3 != tb+1 {
		t.Errorf("after the release: term %d ok %v (%v); want %d", t3, ok, err, tb+1)
	}
}

// With SQLite the one process is always the leader, and fenced writes pass.
func TestSQLiteIsAlwaysTheLeader(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	for _, h := range []string{"a", "b"} {
		if term, ok, err := st.AcquireLease(ctx, h, time.Second); !ok || err != nil || term != 1 {
			t.Fatalf("%s: term %d ok %v (%v)", h, term, ok, err)
		}
	}
	svc := service(t, st, "chatgpt")
	if err := st.Fenced(store.Fence{Holder: "a", Term: 1}).ApplyIncident(ctx, incidentChange(svc, time.Now())); err != nil {
		t.Fatal(err)
	}
}
