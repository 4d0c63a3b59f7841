package models

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestNewIncidentEventPayload(t *testing.T) {
	start := time.Date(2026, 11, 2, 14, 2, 0, 0, time.FixedZone("KST", 9*3600))
	end := start.Add(45 * time.Minute)
	inc := Incident{
		ID: 42, ServiceID: 7, Scope: "KR", Level: LevelOutage, StartedAt: start, ResolvedAt: &end, Window: 5 * time.Minute,
		Expected: 12, Actual: 340, Ratio: 28.3, Significance: 41.2, Rule: "r", TopProblems: []Share{{Key: "login", Count: 210, Percent: 61.8}},
	}
	at := time.Date(2026, 11, 2, 14, 47, 0, 0, time.UTC)
	ev, err := NewIncidentEvent(EventIncidentResolved, Service{ID: 7, Slug: "chatgpt", Name: "ChatGPT"}, inc, "https://outcry.example", at)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ev.ID, "evt_") || ev.Type != EventIncidentResolved || ev.ServiceSlug != "chatgpt" || ev.IncidentID != 42 || ev.FannedOut {
		t.Fatalf("event %+v", ev)
	}
	var doc map[string]any
	if err := json.Unmarshal(ev.Payload, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["version"] != PayloadVersion || doc["id"] != ev.ID || doc["type"] != "incident.resolved" || doc["occurred_at"] != "2026-11-02T14:47:00Z" {
		t.Errorf("envelope %v", doc)
	}
	got := doc["data"].(map[string]any)["incident"].(map[string]any)
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"actual", "correlation", "expected", "id", "lead_seconds", "level", "official_acknowledged_at", "opened_at", "ratio", "resolved_at",
		"rule", "scope", "service", "significance", "started_at", "status_url", "top_problems", "top_regions", "window_seconds"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("incident fields %v; want %v (the documented contract)", keys, want)
	}
	if got["official_acknowledged_at"] != nil || got["lead_seconds"] != nil || got["opened_at"] != got["started_at"] || got["correlation"] != nil {
		t.Errorf("an unacknowledged incident stored before opened_at: %v", got)
	}
	if got["started_at"] != "2026-11-02T05:02:00Z" || got["status_url"] != "https://outcry.example/s/chatgpt" ||
		got["window_seconds"] != 300.0 || got["top_regions"] == nil {
		t.Errorf("incident %v", got)
	}
	if _, err := NewIncidentEvent("incident.exploded", Service{}, inc, "", at); ErrorCode(err) != CodeInvalid {
		t.Errorf("unknown type: %v", err)
	}
}

func TestNewPingEvent(t *testing.T) {
	ev, err := NewPingEvent("wh_1", time.Now())
	if err != nil || ev.Target != "wh_1" || ev.Type != EventPing {
		t.Fatalf("%+v %v", ev, err)
	}
	env, err := ev.Envelope()
	if err != nil || env.Data.Ping == nil || env.Data.Ping.WebhookID != "wh_1" || env.Data.Incident != nil {
		t.Errorf("%s %v", ev.Payload, err)
	}
}

func TestNewID(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	a, b := NewID("evt_", t0), NewID("evt_", t0.Add(time.Millisecond))
	if len(a) != 30 || !strings.HasPrefix(a, "evt_") || strings.ContainsAny(a[4:], "ILOU") || a == NewID("evt_", t0) {
		t.Errorf("id %q", a)
	}
	if a[4:14] >= b[4:14] {
		t.Errorf("%s and %s do not sort by time", a, b)
	}
	prev := NewID("", t0)
	for range 1000 { // same millisecond: still increasing
		if id := NewID("", t0); id <= prev {
			t.Fatalf("%s after %s", id, prev)
		} else {
			prev = id
		}
	}
	if got := NewID("", time.UnixMilli(0))[:10]; got != "0000000000" {
		t.Errorf("time part of the epoch %q", got)
	}
}
