package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/webhook/webhooktest"
)

// (a) 500, 500, 200: one successful delivery, three attempts logged, every
// request signed with the same webhook-id.
func TestRetriesUntilSuccess(t *testing.T) {
	rcv := webhooktest.NewReceiver(t, 500, 500, 200)
	s := newService(t, openDB(t), nil)
	hook := subscribe(t, s, models.Webhook{URL: rcv.URL + "/hook"})
	run(t, s)
	ev := commit(t, s, models.EventIncidentOpened, "chatgpt")

	testkit.Eventually(t, 5*time.Second, "the delivery to succeed", func() bool {
		d, ok := delivery(t, s, ev.ID, hook.ID)
		return ok && d.Status == models.DeliverySucceeded
	})
	d, _ := delivery(t, s, ev.ID, hook.ID)
	if d.Attempts != 3 || len(d.Log) != 3 {
		t.Fatalf("attempts = %d, log = %d; want 3 and 3", d.Attempts, len(d.Log))
	}
	want := []struct {
		code    int
		outcome models.AttemptOutcome
	}{{500, models.OutcomeRetry}, {500, models.OutcomeRetry}, {200, models.OutcomeSucceeded}}
	for i, a := range d.Log {
		if a.N != i+1 || a.StatusCode != want[i].code || a.Outcome != want[i].outcome {
			t.Errorf("attempt %d = n %d, %d %s; want %d %s", i, a.N, a.StatusCode, a.Outcome, want[i].code, want[i].outcome)
		}
		if (a.NextRetryAt != nil) != (a.Outcome == models.OutcomeRetry) {
			t.Errorf("attempt %d: next retry %v with outcome %s", i, a.NextRetryAt, a.Outcome)
		}
	}
	got := rcv.Requests()
	if len(got) != 3 {
		t.Fatalf("receiver got %d requests; want 3", len(got))
	}
	for _, r := range got {
		if id := r.Header.Get("webhook-id"); id != ev.ID {
			t.Errorf("webhook-id %q; want the event id %q on every attempt", id, ev.ID)
		}
		if err := webhooktest.Verify(hook.Secret, r); err != nil { // (f) with the Standard Webhooks library
			t.Errorf("signature: %v", err)
		}
		if string(r.Body) != string(ev.Payload) {
			t.Errorf("body %s; want the event payload", r.Body)
		}
	}
}

// (b) A receiver down while the dispatcher restarts still gets the event
// after the restart, exactly once.
func TestResumesAfterRestart(t *testing.T) {
	var mu sync.Mutex
	up, successes := false, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !up {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		successes++
	}))
	t.Cleanup(srv.Close)
	db := openDB(t)
	slow := func(o *Options) { o.Backoff = func(int) time.Duration { return 200 * time.Millisecond } }

	first := newService(t, db, slow)
	hook := subscribe(t, first, models.Webhook{URL: srv.URL})
	ev := commit(t, first, models.EventIncidentOpened, "sora") // committed before any dispatcher runs
	stop := run(t, first)
	testkit.Eventually(t, 5*time.Second, "a failed first attempt", func() bool {
		d, _ := delivery(t, first, ev.ID, hook.ID)
		return d.Attempts >= 1
	})
	stop()
	before, _ := delivery(t, first, ev.ID, hook.ID)
	if before.Status != models.DeliveryPending || before.LeaseToken != "" || before.LeaseUntil != nil {
		t.Fatalf("after stopping: %s, lease %q %v; want pending and released", before.Status, before.LeaseToken, before.LeaseUntil)
	}

	mu.Lock()
	up = true
	mu.Unlock()
	second := newService(t, db, slow)
	run(t, second)
	testkit.Eventually(t, 5*time.Second, "delivery after the restart", func() bool {
		d, _ := delivery(t, second, ev.ID, hook.ID)
		return d.Status == models.DeliverySucceeded
	})
	after, _ := delivery(t, second, ev.ID, hook.ID)
	if after.Attempts != before.Attempts+1 {
		t.Errorf("attempts %d after the restart; want %d (one more)", after.Attempts, before.Attempts+1)
	}
	mu.Lock()
	defer mu.Unlock()
	if successes != 1 {
		t.Errorf("the receiver took the event %d times; want 1", successes)
	}
}

// (c) A hanging endpoint holds one worker; another subscription is still
// served promptly.
func TestHangingEndpointDoesNotDelayOthers(t *testing.T) {
	hanging, release, _ := newHangingServer(t)
	prompt := webhooktest.NewReceiver(t)
	s := newService(t, openDB(t), func(o *Options) { o.Workers = 2 })
	slowHook := subscribe(t, s, models.Webhook{URL: hanging.URL})
	fastHook := subscribe(t, s, models.Webhook{URL: prompt.URL})
	run(t, s)
	t.Cleanup(release) // runs before the dispatcher stops

	start := time.Now()
	var evs []models.Event
	for range 3 { // several events: the hanging subscription keeps one worker, never more
		evs = append(evs, commit(t, s, models.EventIncidentOpened, "claude"))
	}
	testkit.Eventually(t, 2*time.Second, "the prompt subscription's deliveries", func() bool {
		for _, ev := range evs {
			if d, _ := delivery(t, s, ev.ID, fastHook.ID); d.Status != models.DeliverySucceeded {
				return false
			}
		}
		return true
	})
	t.Logf("prompt subscription served %d events in %s", len(evs), time.Since(start))
	if n := len(prompt.Requests()); n != len(evs) {
		t.Errorf("prompt receiver got %d requests; want %d", n, len(evs))
	}
	var inFlight, pending int64
	rawOf(s).Model(&models.Delivery{}).Where("webhook_id = ? AND lease_token <> ''", slowHook.ID).Count(&inFlight)
	rawOf(s).Model(&models.Delivery{}).Where("webhook_id = ? AND status = ?", slowHook.ID, models.DeliveryPending).Count(&pending)
	if inFlight != 1 || pending != int64(len(evs)) {
		t.Errorf("hanging subscription: %d in flight, %d pending; want 1 and %d", inFlight, pending, len(evs))
	}
}

// Other 4xx answers fail for good after one attempt; 3xx is a failure too
// (never followed).
func TestPermanentAndRedirectFailures(t *testing.T) {
	gone := webhooktest.NewReceiver(t, http.StatusGone)
	target := webhooktest.NewReceiver(t)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	t.Cleanup(redirect.Close)
	s := newService(t, openDB(t), func(o *Options) { o.Backoff = func(int) time.Duration { return time.Hour } })
	h410 := subscribe(t, s, models.Webhook{URL: gone.URL})
	h302 := subscribe(t, s, models.Webhook{URL: redirect.URL})
	run(t, s)
	ev := commit(t, s, models.EventIncidentResolved, "gemini")
	testkit.Eventually(t, 5*time.Second, "both attempts", func() bool {
		a, _ := delivery(t, s, ev.ID, h410.ID)
		b, _ := delivery(t, s, ev.ID, h302.ID)
		return a.Attempts == 1 && b.Attempts == 1
	})
	a, _ := delivery(t, s, ev.ID, h410.ID)
	if a.Status != models.DeliveryFailed || a.LastStatusCode != 410 {
		t.Errorf("410: %s %d; want failed", a.Status, a.LastStatusCode)
	}
	b, _ := delivery(t, s, ev.ID, h302.ID)
	if b.Status != models.DeliveryPending || b.LastStatusCode != 302 || len(target.Requests()) != 0 {
		t.Errorf("302: %s %d, redirect target hit %d times; want a scheduled retry and no redirect followed",
			b.Status, b.LastStatusCode, len(target.Requests()))
	}
}

// Three days of failures give up and disable the subscription, saying why.
func TestDisabledAfterThreeDaysOfFailures(t *testing.T) {
	rcv := webhooktest.NewReceiver(t, http.StatusInternalServerError)
	clk := testkit.NewClock(time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC))
	s := newService(t, openDB(t), func(o *Options) {
		o.Now = clk.Now
		o.Backoff = func(int) time.Duration { return 25 * time.Hour }
	})
	hook := subscribe(t, s, models.Webhook{URL: rcv.URL})
	run(t, s)
	ev := commit(t, s, models.EventIncidentOpened, "chatgpt")
	for n := 1; n <= 3; n++ { // attempts at 0 h, 25 h, 50 h; the next would be past 72 h
		testkit.Eventually(t, 5*time.Second, "an attempt", func() bool {
			d, _ := delivery(t, s, ev.ID, hook.ID)
			return d.Attempts == n
		})
		clk.Add(25 * time.Hour)
		s.Notify()
	}
	d, _ := delivery(t, s, ev.ID, hook.ID)
	if d.Status != models.DeliveryFailed || d.Log[2].Outcome != models.OutcomeFailed {
		t.Fatalf("delivery %s, last outcome %s; want failed", d.Status, d.Log[2].Outcome)
	}
	w, err := s.Get(context.Background(), hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Disabled || w.DisabledAt == nil || w.DisabledReason == "" {
		t.Fatalf("webhook disabled=%v at %v reason %q; want disabled with a reason", w.Disabled, w.DisabledAt, w.DisabledReason)
	}
	t.Logf("disabled: %s", w.DisabledReason)
	if _, err := s.Redeliver(context.Background(), d.ID); models.ErrorCode(err) != models.CodeConflict {
		t.Errorf("redeliver to a disabled webhook: %v; want conflict", err)
	}
}

// Redeliver sends the same event (same webhook-id) again as a new attempt.
func TestRedeliver(t *testing.T) {
	rcv := webhooktest.NewReceiver(t)
	s := newService(t, openDB(t), nil)
	hook := subscribe(t, s, models.Webhook{URL: rcv.URL})
	run(t, s)
	ev := commit(t, s, models.EventIncidentOpened, "chatgpt")
	testkit.Eventually(t, 5*time.Second, "the first delivery", func() bool { return len(rcv.Requests()) == 1 })
	var d models.Delivery
	testkit.Eventually(t, 5*time.Second, "the recorded success", func() bool {
		d, _ = delivery(t, s, ev.ID, hook.ID)
		return d.Status == models.DeliverySucceeded
	})
	red, err := s.Redeliver(context.Background(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The answer (POST …/redeliver's body) carries the attempts so far.
	if red.Status != models.DeliveryPending || red.Attempts != 1 || len(red.Log) != 1 || red.Log[0].N != 1 || red.Log[0].Outcome != models.OutcomeSucceeded {
		t.Errorf("redeliver answered %s with %d attempts and log %+v; want pending with attempt 1 in its log", red.Status, red.Attempts, red.Log)
	}
	testkit.Eventually(t, 5*time.Second, "the redelivery", func() bool {
		d, _ = delivery(t, s, ev.ID, hook.ID)
		return d.Status == models.DeliverySucceeded && d.Attempts == 2
	})
	got := rcv.Requests()
	if len(got) != 2 || got[1].Header.Get("webhook-id") != ev.ID {
		t.Fatalf("got %d requests, second id %q; want 2 with id %s", len(got), got[len(got)-1].Header.Get("webhook-id"), ev.ID)
	}
	if _, err := s.Redeliver(context.Background(), "dlv_nope"); models.ErrorCode(err) != models.CodeNotFound {
		t.Errorf("redeliver unknown: %v; want not_found", err)
	}
}

// Subscriptions get only the services and events they chose; fanning out
// again never duplicates a delivery; two dispatchers on one database never
// send an event twice.
func TestFanOutFiltersAndNeverDuplicates(t *testing.T) {
	rcv := webhooktest.NewReceiver(t)
	db := openDB(t)
	a, b := newService(t, db, nil), newService(t, db, nil)
	all := subscribe(t, a, models.Webhook{URL: rcv.URL + "/all"})
	soraOnly := subscribe(t, a, models.Webhook{URL: rcv.URL + "/sora", Services: []string{"sora"}})
	resolvedOnly := subscribe(t, a, models.Webhook{URL: rcv.URL + "/resolved", Events: []string{models.EventIncidentResolved}})
	run(t, a)
	run(t, b)
	opened := commit(t, a, models.EventIncidentOpened, "chatgpt")
	resolved := commit(t, b, models.EventIncidentResolved, "sora")
	b.Notify()
	testkit.Eventually(t, 5*time.Second, "four deliveries", func() bool { return len(rcv.Requests()) >= 4 })
	if err := rawOf(a).Model(&models.Event{}).Where("1 = 1").Update("fanned_out", false).Error; err != nil {
		t.Fatal(err)
	}
	a.Notify()
	b.Notify()
	// Once both events are fanned out again and nothing is pending (a
	// delivery stays pending until its request has been answered and
	// recorded), a wrong second fan-out or a double send has shown itself.
	count := func(model any, where string, args ...any) int64 {
		var n int64
		rawOf(a).Model(model).Where(where, args...).Count(&n)
		return n
	}
	testkit.Eventually(t, 5*time.Second, "the events fanned out again", func() bool { return count(&models.Event{}, "fanned_out = ?", false) == 0 })
	testkit.Eventually(t, 5*time.Second, "no pending delivery", func() bool {
		return count(&models.Delivery{}, "status = ?", models.DeliveryPending) == 0
	})
	perEvent := map[string]int{}
	for _, r := range rcv.Requests() {
		perEvent[r.Header.Get("webhook-id")]++
	}
	if perEvent[opened.ID] != 1 || perEvent[resolved.ID] != 3 {
		t.Errorf("requests per event %v; want %s×1 and %s×3", perEvent, opened.ID, resolved.ID)
	}
	var n int64
	rawOf(a).Model(&models.Delivery{}).Count(&n)
	if n != 4 {
		t.Errorf("%d delivery rows; want 4 (all×2, sora×1, resolved×1)", n)
	}
	if len(rcv.Requests()) != 4 {
		t.Errorf("receiver got %d requests; want 4", len(rcv.Requests()))
	}
	for _, h := range []struct {
		w  models.Webhook
		ev models.Event
		ok bool
	}{{all, opened, true}, {all, resolved, true}, {soraOnly, opened, false}, {soraOnly, resolved, true}, {resolvedOnly, opened, false}, {resolvedOnly, resolved, true}} {
		if _, ok := delivery(t, a, h.ev.ID, h.w.ID); ok != h.ok {
			t.Errorf("%s → %s: delivered %v; want %v", h.ev.Type, h.w.URL, ok, h.ok)
		}
	}
}

// Close lets attempts finish within its context, then aborts them and
// leaves their deliveries pending (unleased, no attempt counted) for the
// next start.
func TestCloseAbortsHangingAttempt(t *testing.T) {
	hanging, release, arrived := newHangingServer(t)
	t.Cleanup(release)
	s := newService(t, openDB(t), nil)
	hook := subscribe(t, s, models.Webhook{URL: hanging.URL})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx, s.st.(Outbox)); close(done) }()
	ev := commit(t, s, models.EventIncidentOpened, "chatgpt")
	// The request is in flight, not merely claimed: a claimed delivery whose
	// worker has not started yet is released at once by Close, which is
	// another test's subject.
	testkit.Eventually(t, 5*time.Second, "the attempt to reach the receiver", func() bool { return arrived() == 1 })
	cancel()
	<-done
	cctx, ccancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer ccancel()
	start := time.Now()
	if err := s.Close(cctx); err != context.DeadlineExceeded {
		t.Errorf("Close: %v; want the deadline", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %s", took)
	}
	d, _ := delivery(t, s, ev.ID, hook.ID)
	if d.Status != models.DeliveryPending || d.LeaseToken != "" || d.LeaseUntil != nil || d.Attempts != 0 {
		t.Errorf("after an aborted attempt: %s, lease %q, %d attempts; want pending, free, 0", d.Status, d.LeaseToken, d.Attempts)
	}
}
