package models

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWebhookValidate(t *testing.T) {
	ok := func(w Webhook) Webhook { w.URL = "https://hooks.example.com/x"; return w }
	for _, c := range []struct {
		name string
		w    Webhook
		ok   bool
	}{
		{"minimal", ok(Webhook{}), true},
		{"http with port", Webhook{URL: "http://hooks.example.com:8080/x?y=1"}, true},
		{"all filters", ok(Webhook{Services: []string{"sora", "chatgpt"}, Events: IncidentEventTypes, Format: "slack"}), true},
		{"json format", ok(Webhook{Format: "json"}), true},
		{"empty", Webhook{}, false},
		{"relative", Webhook{URL: "/x"}, false},
		{"scheme", Webhook{URL: "file:///etc/passwd"}, false},
		{"no host", Webhook{URL: "https:///x"}, false},
		{"too long", Webhook{URL: "https://h.example/" + string(make([]byte, MaxURLLength))}, false},
		{"bad slug", ok(Webhook{Services: []string{"Chat GPT"}}), false},
		{"unknown event", ok(Webhook{Events: []string{"incident.deleted"}}), false},
		{"ping filter", ok(Webhook{Events: []string{EventPing}}), false},
		{"discord", ok(Webhook{Format: FormatDiscord}), true},
		{"teams", ok(Webhook{Format: FormatTeams}), true},
		{"ntfy", Webhook{URL: "https://ntfy.sh/outcry_alerts-1", Format: FormatNtfy}, true},
		{"ntfy behind a prefix", Webhook{URL: "https://push.example.com/ntfy/alerts/?auth=dGs", Format: FormatNtfy}, true},
		{"ntfy without a topic", Webhook{URL: "https://ntfy.sh/", Format: FormatNtfy}, false},
		{"ntfy bad topic", Webhook{URL: "https://ntfy.sh/al.erts", Format: FormatNtfy}, false},
		{"unknown format", ok(Webhook{Format: "xml"}), false},
		{"format is case-sensitive", ok(Webhook{Format: "Discord"}), false},
	} {
		w := c.w
		if err := w.Validate(); (err == nil) != c.ok || (err != nil && ErrorCode(err) != CodeInvalid) {
			t.Errorf("%s: %v; want ok=%v", c.name, err, c.ok)
		}
	}
	w := ok(Webhook{Services: []string{"sora", "chatgpt", "sora"}, Format: "json", Description: "  x "})
	if err := w.Validate(); err != nil || !reflect.DeepEqual(w.Services, []string{"chatgpt", "sora"}) || w.Format != FormatStandard || w.Description != "x" {
		t.Errorf("normalised %+v %v", w, err)
	}
}

func TestNtfyTarget(t *testing.T) {
	for _, c := range []struct{ in, root, topic string }{
		{"https://ntfy.sh/alerts", "https://ntfy.sh/", "alerts"},
		{"https://ntfy.sh/alerts/", "https://ntfy.sh/", "alerts"},
		{"https://u:p@push.example.com:8443/ntfy/ops_1?auth=dGs#x", "https://u:p@push.example.com:8443/ntfy/?auth=dGs", "ops_1"},
	} {
		root, topic, err := NtfyTarget(c.in)
		if err != nil || root != c.root || topic != c.topic {
			t.Errorf("%s: %q %q %v; want %q %q", c.in, root, topic, err, c.root, c.topic)
		}
	}
	for _, bad := range []string{"https://ntfy.sh", "https://ntfy.sh/", "https://ntfy.sh/a b", "https://ntfy.sh/" + strings.Repeat("a", 65)} {
		if _, _, err := NtfyTarget(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestWebhookWants(t *testing.T) {
	opened := &Event{Type: EventIncidentOpened, ServiceSlug: "sora"}
	ping := &Event{Type: EventPing, Target: "wh_a"}
	for _, c := range []struct {
		w    Webhook
		ev   *Event
		want bool
	}{
		{Webhook{ID: "wh_a"}, opened, true},
		{Webhook{ID: "wh_a", Services: []string{"sora"}}, opened, true},
		{Webhook{ID: "wh_a", Services: []string{"chatgpt"}}, opened, false},
		{Webhook{ID: "wh_a", Events: []string{EventIncidentResolved}}, opened, false},
		{Webhook{ID: "wh_a", Disabled: true}, opened, false},
		{Webhook{ID: "wh_a"}, ping, true},
		{Webhook{ID: "wh_b"}, ping, false},
	} {
		if got := c.w.Wants(c.ev); got != c.want {
			t.Errorf("%+v wants %+v = %v", c.w, c.ev, got)
		}
	}
}

func TestWebhookRotateAndPatch(t *testing.T) {
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	w := Webhook{Secret: NewSecret()}
	old := w.Secret
	w.Rotate(now)
	if got := w.SigningSecrets(now.Add(RotationOverlap - time.Second)); len(got) != 2 || got[1] != old || got[0] == old {
		t.Errorf("during the overlap: %v", got)
	}
	if got := w.SigningSecrets(now.Add(RotationOverlap)); len(got) != 1 || got[0] != w.Secret {
		t.Errorf("after the overlap: %v", got)
	}
	yes, no, url := true, false, "https://new.example/"
	w.Apply(WebhookPatch{Disabled: &yes, URL: &url}, now)
	if !w.Disabled || w.DisabledAt == nil || w.DisabledReason == "" || w.URL != url {
		t.Errorf("disabled by patch: %+v", w)
	}
	w.Apply(WebhookPatch{Disabled: &no}, now)
	if w.Disabled || w.DisabledAt != nil || w.DisabledReason != "" {
		t.Errorf("enabled by patch: %+v", w)
	}
}
