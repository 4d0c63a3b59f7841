package cluster

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/store/storetest"
	"github.com/outcry/outcry/server/webhook/webhooktest"
)

// status is what the tests read of a service's status API.
type status struct {
	Status   string `json:"status"`
	Incident *struct {
		ID    uint64 `json:"id"`
		Level string `json:"level"`
	} `json:"incident"`
}

func view(t *testing.T, r *replica, slug string) (status, bool) {
	code, body := do(t, r, "GET", "/api/v1/services/"+slug, nil)
	var s status
	if code != http.StatusOK || json.Unmarshal(body, &s) != nil {
		return s, false
	}
	return s, true
}

// burst sends n reports from distinct addresses (offset on), round-robin
// over the live replicas, concurrently, and returns the ids answered 202.
func burst(t *testing.T, reps []*replica, slug string, n, offset int) []uint64 {
	var mu sync.Mutex
	var ids []uint64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := 0; i < n; i++ {
		k := offset + i
		r := reps[i%len(reps)]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			addr := fmt.Sprintf("100.%d.%d.%d", 64+k/256%64, k%256, 1+k/16384%254) // a /24 each: a network counts once
			code, body := do(t, r, "POST", "/api/v1/services/"+slug+"/reports",
				map[string]string{"problem": "login", "region": "US"}, "X-Forwarded-For", addr)
			if code != http.StatusAccepted {
				t.Errorf("report %d to %s: %d %s", k, r.name, code, body)
				return
			}
			var a struct {
				ID uint64 `json:"id"`
			}
			if err := json.Unmarshal(body, &a); err != nil || a.ID == 0 {
				t.Errorf("report %d: no id in %s", k, body)
				return
			}
			mu.Lock()
			ids = append(ids, a.ID)
			mu.Unlock()
		})
	}
	wg.Wait()
	return ids
}

// byType groups the receiver's requests by event type, then webhook-id.
func byType(rcv *webhooktest.Receiver) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, r := range rcv.Requests() {
		var env struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(r.Body, &env)
		if out[env.Type] == nil {
			out[env.Type] = map[string]int{}
		}
		out[env.Type][r.Header.Get("webhook-id")]++
	}
	return out
}

// TestClusterOneLeaderEveryAlertOnce runs three replicas on one PostgreSQL
// and one Redis. A burst spread over all three opens one incident, announced
// once; kill -9 of the leader hands over to another replica within 15 s
// with the next term, and the incident is neither re-opened nor lost; a
// leader frozen by SIGSTOP past its lease is replaced, and when it wakes
// its tenure's writes are refused; the incident resolves, announced once;
// every report any replica answered 202 is a row.
func TestClusterOneLeaderEveryAlertOnce(t *testing.T) {
	c := newCluster(t, 3*time.Second, 500*time.Millisecond)
	rcv := webhooktest.NewReceiver(t)
	for i := 0; i < 3; i++ {
		c.start()
	}
	first, term1 := c.oneLeader(20 * time.Second)
	t.Logf("leader %s, term %d", first.name, term1)

	// Changes through any replica reach every replica.
	if code, body := admin(t, c.reps[0], "POST", "/api/v1/services", map[string]any{
		"slug": "chatgpt", "name": "ChatGPT", "problems": []string{"login", "app"},
	}); code != http.StatusCreated {
		t.Fatalf("creating the service: %d %s", code, body)
	}
	for _, r := range c.reps {
		c.waitFor(20*time.Second, r.name+" to serve the new service", func() bool { _, ok := view(t, r, "chatgpt"); return ok })
	}
	code, body := admin(t, c.reps[1], "POST", "/api/v1/webhooks", map[string]any{"url": rcv.URL + "/hook", "services": []string{"chatgpt"}})
	if code != http.StatusCreated {
		t.Fatalf("subscribing: %d %s", code, body)
	}
	var hook struct{ ID, Secret string }
	_ = json.Unmarshal(body, &hook)
	if code, _ := do(t, c.reps[2], "GET", "/readyz", nil); code != http.StatusOK {
		t.Errorf("a replica's /readyz: %d", code)
	}

	// A burst spread over the three replicas: one incident, one opening.
	ids := burst(t, c.reps, "chatgpt", 150, 0)
	opened := func() int { return len(byType(rcv)[models.EventIncidentOpened]) }
	c.waitFor(30*time.Second, "incident.opened at the receiver", func() bool { return opened() > 0 })
	db := storetest.Raw(t, c.env["OUTCRY_DATABASE_URL"])
	var inc models.Incident
	if err := db.Take(&inc).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range c.reps { // followers show it too, from the leader's published status, within 5 s
		c.waitFor(5*time.Second, r.name+" to show the incident", func() bool {
			s, ok := view(t, r, "chatgpt")
			return ok && s.Incident != nil && s.Incident.ID == inc.ID
		})
	}

	// kill -9 of the leader while the incident is open.
	killed := time.Now()
	first.kill(t)
	second, term2 := c.oneLeader(15*time.Second, first)
	var tick float64
	c.waitFor(15*time.Second-time.Since(killed), "the new leader's first tick", func() bool {
		tick, _ = second.metric("outcry_detector_last_tick_timestamp_seconds")
		return tick >= float64(killed.Unix())
	})
	t.Logf("kill -9 of %s: %s leads with term %d, first tick %.1f s after the kill", first.name, second.name, term2,
		tick-float64(killed.UnixNano())/1e9)
	if term2 != term1+1 {
		t.Errorf("term after the kill %d; want %d", term2, term1+1)
	}
	survivors := []*replica{}
	for _, r := range c.reps {
		if r.alive() {
			survivors = append(survivors, r)
		}
	}
	ids = append(ids, burst(t, survivors, "chatgpt", 60, 1000)...) // reports keep coming

	// SIGSTOP of the new leader past its lease: a third replica takes over.
	if err := second.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	third, term3 := c.oneLeader(15*time.Second, first, second)
	if term3 != term2+1 {
		t.Errorf("term after the SIGSTOP %d; want %d", term3, term2+1)
	}
	// Quiet for longer than the hysteresis while it is frozen: the third
	// leader resolves the incident.
	for i := 0; i < 8; i++ {
		c.advance(6 * time.Minute)
		time.Sleep(400 * time.Millisecond)
	}
	resolved := func() int { return len(byType(rcv)[models.EventIncidentResolved]) }
	c.waitFor(30*time.Second, "incident.resolved at the receiver", func() bool { return resolved() > 0 })
	woke := time.Now()
	if err := second.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// The woken leader finds it lost the lease and follows; whatever its
	// old tenure still tried to write was refused by the database.
	c.waitFor(15*time.Second, second.name+" to step down", func() bool { v, ok := second.metric("outcry_leader"); return ok && v == 0 })
	if l, _ := c.leaders(); len(l) != 1 || l[0] != third {
		t.Errorf("leaders after the wake-up: %v", l)
	}
	if second.logged("no longer the leader") {
		t.Logf("%s tried to write under its old term after waking and was refused", second.name)
	}
	time.Sleep(time.Second) // let a wrong second resolution or delivery show itself

	// One incident; one event per transition; one webhook-id per event,
	// every one delivered; no event of the frozen tenure after it ended.
	var incidents int64
	db.Model(&models.Incident{}).Count(&incidents)
	if incidents != 1 {
		t.Errorf("%d incidents; want 1", incidents)
	}
	var evs []models.Event
	db.Order("occurred_at, id").Find(&evs)
	types := map[string]int{}
	for _, e := range evs {
		types[e.Type]++
		if e.Term == term2 && e.CreatedAt.After(woke) {
			t.Errorf("event %s %s written under the frozen leader's term %d after it woke", e.ID, e.Type, e.Term)
		}
	}
	if types[models.EventIncidentOpened] != 1 || types[models.EventIncidentResolved] != 1 {
		t.Errorf("events by type %v; want one opened and one resolved", types)
	}
	got := byType(rcv)
	for _, e := range evs {
		if n := got[e.Type][e.ID]; n < 1 {
			t.Errorf("event %s (%s) never reached the receiver", e.ID, e.Type)
		} else if n > 1 {
			t.Logf("event %s (%s) arrived %d times with the same webhook-id (at least once)", e.ID, e.Type, n)
		}
	}
	for typ, idsByHook := range got {
		if len(idsByHook) != types[typ] {
			t.Errorf("%s: %d webhook-ids at the receiver; want %d (one per event)", typ, len(idsByHook), types[typ])
		}
	}
	for _, r := range rcv.Requests() {
		if err := webhooktest.Verify(hook.Secret, r); err != nil {
			t.Errorf("a delivery's signature: %v", err)
		}
	}

	// Every 202 from any replica is a row.
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var rows int64
	db.Model(&models.Report{}).Where("id IN ?", ids).Count(&rows)
	if rows != int64(len(ids)) || len(ids) != 210 {
		t.Errorf("%d of %d acknowledged reports are rows; want all of 210", rows, len(ids))
	}
}
