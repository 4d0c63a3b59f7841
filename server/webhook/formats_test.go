package webhook

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/server/webhook/webhooktest"
)

// receiverSchema is webhooktest.ReceiverSchema.
func receiverSchema(tb testing.TB, file string) *jsonschema.Schema {
	return webhooktest.ReceiverSchema(tb, file)
}

// formatCase is one event every format must render.
type formatCase struct {
	name      string
	ev        models.Event
	publicURL string
	tone      tone
	statusURL string // the link the body must carry ("" = none)
}

// formatCases covers every event type the dispatcher sends, a regional
// warning, names and keys longer than any limit and full of markup, and
// an Outcry without a public URL (relative status links must not go out).
func formatCases(t *testing.T) []formatCase {
	t.Helper()
	at := time.Date(2026, 11, 2, 14, 7, 15, 0, time.UTC)
	mk := func(typ string, svc models.Service, inc models.Incident, public string) models.Event {
		ev, err := models.NewIncidentEvent(typ, svc, inc, public, at)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	svc := testService("chatgpt")
	inc := testIncident()
	warning := inc
	warning.Level, warning.Scope = models.LevelWarning, "KR"
	resolved := inc
	end := inc.StartedAt.Add(45 * time.Minute)
	resolved.ResolvedAt = &end
	long := testService("acme")
	long.Name = strings.Repeat("*Acme* @everyone <b>_x_</b> 🔥 ", 300) // 9000 characters
	huge := inc
	huge.Rule = strings.Repeat("reports (p < 1e-9) ", 400)
	for i := 0; i < 40; i++ {
		key := strings.Repeat("problem-"+string(rune('a'+i%26)), 200)
		huge.TopProblems = append(huge.TopProblems, models.Share{Key: key, Count: 1, Percent: 1})
		huge.TopRegions = append(huge.TopRegions, models.Share{Key: key, Count: 1, Percent: 1})
	}
	ping, err := models.NewPingEvent("wh_1", at)
	if err != nil {
		t.Fatal(err)
	}
	const pub = "https://outcry.example"
	return []formatCase{
		{"opened outage", mk(models.EventIncidentOpened, svc, inc, pub), pub, toneOutage, pub + "/s/chatgpt"},
		{"opened regional warning", mk(models.EventIncidentOpened, svc, warning, pub), pub, toneWarning, pub + "/s/chatgpt"},
		{"updated", mk(models.EventIncidentUpdated, svc, inc, pub), pub, toneOutage, pub + "/s/chatgpt"},
		{"resolved", mk(models.EventIncidentResolved, svc, resolved, pub), pub, toneResolved, pub + "/s/chatgpt"},
		{"ping", ping, pub, toneTest, pub},
		{"over every limit", mk(models.EventIncidentOpened, long, huge, pub), pub, toneOutage, pub + "/s/acme"},
		{"no public URL", mk(models.EventIncidentOpened, svc, inc, ""), "", toneOutage, ""},
	}
}

func validate(t *testing.T, s *jsonschema.Schema, what string, body []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", what, err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s does not match the receiver's documented format: %v\n%.2000s", what, err, body)
	}
}

// Every Discord body matches Execute Webhook's documented JSON and its
// limits (in UTF-16 units, and the embed total), is coloured by level,
// links the status page and pings nobody.
func TestDiscordBodyMatchesExecuteWebhook(t *testing.T) {
	schema := receiverSchema(t, "discord-execute-webhook.schema.json")
	for _, c := range formatCases(t) {
		b, err := discordBody(&c.ev, "https://discord.com/api/webhooks/1/tok", c.publicURL)
		if err != nil {
			t.Fatal(err)
		}
		validate(t, schema, c.name, b)
		var msg discordMessage
		if err := json.Unmarshal(b, &msg); err != nil || len(msg.Embeds) != 1 {
			t.Fatalf("%s: %s %v", c.name, b, err)
		}
		e := msg.Embeds[0]
		total := utf16Len(e.Title) + utf16Len(e.Description) + utf16Len(e.Footer.Text)
		for _, f := range e.Fields {
			total += utf16Len(f.Name) + utf16Len(f.Value)
			if utf16Len(f.Name) > discordFieldNameMax || utf16Len(f.Value) > discordFieldValueMax {
				t.Errorf("%s: field %q over its limit", c.name, f.Name)
			}
		}
		if utf16Len(msg.Content) > discordContentMax || utf16Len(e.Title) > discordTitleMax || utf16Len(e.Description) > discordDescriptionMax ||
			len(e.Fields) > discordFieldsMax || total > discordEmbedTotalMax {
			t.Errorf("%s: over Discord's limits: content %d, title %d, description %d, %d fields, embed total %d", c.name,
				utf16Len(msg.Content), utf16Len(e.Title), utf16Len(e.Description), len(e.Fields), total)
		}
		if e.Color != discordColors[c.tone] || e.URL != c.statusURL || msg.AllowedMentions.Parse == nil || len(msg.AllowedMentions.Parse) != 0 {
			t.Errorf("%s: color %06x url %q mentions %v; want %06x %q and none", c.name, e.Color, e.URL, msg.AllowedMentions.Parse,
				discordColors[c.tone], c.statusURL)
		}
	}
	// Markup in a name is shown as typed.
	b, _ := discordBody(&formatCases(t)[5].ev, "", "https://outcry.example")
	if !strings.Contains(string(b), `\\*Acme\\*`) || strings.Contains(string(b), "<b>") {
		t.Errorf("markup in a service name is not escaped: %.300s", b)
	}
}

// Every Teams body is a Workflows message with one Adaptive Card 1.4 that
// has the required parts, coloured by level, with a button to the status
// page.
func TestTeamsBodyMatchesAdaptiveCard(t *testing.T) {
	schema := receiverSchema(t, "teams-workflows-adaptive-card.schema.json")
	for _, c := range formatCases(t) {
		b, err := teamsBody(&c.ev, "https://prod-00.westus.logic.azure.com/workflows/x", c.publicURL)
		if err != nil {
			t.Fatal(err)
		}
		validate(t, schema, c.name, b)
		var msg struct {
			Attachments []struct {
				ContentURL *string `json:"contentUrl"`
				Content    struct {
					Version string
					Body    []struct{ Type, Text, Color string }
					Actions []struct{ Type, URL string }
				}
			}
		}
		if err := json.Unmarshal(b, &msg); err != nil || len(msg.Attachments) != 1 || !strings.Contains(string(b), `"contentUrl":null`) {
			t.Fatalf("%s: %s %v", c.name, b, err)
		}
		card := msg.Attachments[0].Content
		url := ""
		if len(card.Actions) == 1 {
			url = card.Actions[0].URL
		}
		if card.Version != "1.4" || card.Body[0].Color != teamsColors[c.tone] || url != c.statusURL {
			t.Errorf("%s: version %s, headline colour %s, button %q; want 1.4, %s, %q", c.name, card.Version, card.Body[0].Color, url,
				teamsColors[c.tone], c.statusURL)
		}
	}
}

// Every ntfy body is a "publish as JSON" message to the subscription's
// topic, within the message size limit, clicking through to the status
// page, its priority by level.
func TestNtfyBodyMatchesPublishAsJSON(t *testing.T) {
	schema := receiverSchema(t, "ntfy-publish-json.schema.json")
	for _, c := range formatCases(t) {
		b, err := ntfyBody(&c.ev, "https://ntfy.example/outcry_alerts?auth=dGs", c.publicURL)
		if err != nil {
			t.Fatal(err)
		}
		validate(t, schema, c.name, b)
		var msg ntfyMessage
		if err := json.Unmarshal(b, &msg); err != nil {
			t.Fatal(err)
		}
		if msg.Topic != "outcry_alerts" || len(msg.Message) > 4096 || msg.Click != c.statusURL || msg.Priority != ntfyPriority[c.tone] ||
			msg.Tags[0] != ntfyTags[c.tone] {
			t.Errorf("%s: topic %q, %d bytes, click %q, priority %d, tags %v", c.name, msg.Topic, len(msg.Message), msg.Click, msg.Priority, msg.Tags)
		}
	}
	if _, err := ntfyBody(&formatCases(t)[0].ev, "https://ntfy.example/", ""); err == nil {
		t.Error("an ntfy URL without a topic rendered a body")
	}
}

// The schemas are not too loose to fail: bodies that break what the
// receivers document are refused.
func TestReceiverSchemasRefuseWhatReceiversRefuse(t *testing.T) {
	field := `{"name":"n","value":"v"}`
	for _, c := range []struct{ file, body string }{
		{"discord-execute-webhook.schema.json", `{}`},
		{"discord-execute-webhook.schema.json", `{"content":""}`},
		{"discord-execute-webhook.schema.json", `{"content":"` + strings.Repeat("x", 2001) + `"}`},
		{"discord-execute-webhook.schema.json", `{"embeds":[{"title":"` + strings.Repeat("x", 257) + `"}]}`},
		{"discord-execute-webhook.schema.json", `{"embeds":[{"fields":[{"name":"n","value":"` + strings.Repeat("x", 1025) + `"}]}]}`},
		{"discord-execute-webhook.schema.json", `{"embeds":[{"fields":[` + strings.Repeat(field+",", 25) + field + `]}]}`},
		{"discord-execute-webhook.schema.json", `{"embeds":[{"color":"red"}]}`},
		{"discord-execute-webhook.schema.json", `{"embeds":[{"url":"/s/x"}]}`},
		{"discord-execute-webhook.schema.json", `{"content":"x","text":"a Slack field"}`},
		{"teams-workflows-adaptive-card.schema.json", `{"type":"AdaptiveCard","version":"1.4","body":[]}`},
		{"teams-workflows-adaptive-card.schema.json", `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","body":[]}}]}`},
		{"teams-workflows-adaptive-card.schema.json", `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock"}]}}]}`},
		{"teams-workflows-adaptive-card.schema.json", `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"x","color":"red"}]}}]}`},
		{"teams-workflows-adaptive-card.schema.json", `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.4","actions":[{"type":"Action.OpenUrl","title":"x"}]}}]}`},
		{"ntfy-publish-json.schema.json", `{"message":"no topic"}`},
		{"ntfy-publish-json.schema.json", `{"topic":"a/b"}`},
		{"ntfy-publish-json.schema.json", `{"topic":"t","priority":6}`},
		{"ntfy-publish-json.schema.json", `{"topic":"t","actions":[{"action":"view","label":"x"}]}`},
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if receiverSchema(t, c.file).Validate(v) == nil {
			t.Errorf("%s accepts %.200s", c.file, c.body)
		}
	}
}

func TestClipAndDurations(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 3, "abc"}, {"abcd", 3, "ab…"}, {"🔥🔥🔥", 4, "🔥…"}, {"a🔥", 2, "a…"}, {"", 0, ""},
	} {
		if got := clip(c.s, c.n); got != c.want || utf16Len(got) > c.n {
			t.Errorf("clip(%q, %d) = %q; want %q", c.s, c.n, got, c.want)
		}
	}
	if got := clipBytes("ab🔥", 5); got != "ab…" {
		t.Errorf("clipBytes: %q", got)
	}
	for d, want := range map[time.Duration]string{30 * time.Second: "30 s", 5 * time.Minute: "5 min", 2 * time.Hour: "2 h", 125 * time.Minute: "2 h 5 min"} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q; want %q", d, got, want)
		}
	}
}
