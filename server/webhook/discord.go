package webhook

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/outcry/outcry/models"
)

// Discord's Execute Webhook limits (https://discord.com/developers/docs/resources/webhook#execute-webhook,
// .../resources/message#embed-object-embed-limits), counted in UTF-16 code units.
const (
	discordContentMax     = 2000
	discordTitleMax       = 256
	discordDescriptionMax = 4096
	discordFieldNameMax   = 256
	discordFieldValueMax  = 1024
	discordFieldsMax      = 25
	discordFooterMax      = 2048
	discordEmbedTotalMax  = 6000 // title, description, field names and values, footer, author name
)

// discordMessage is an Execute Webhook body.
type discordMessage struct {
	Content         string          `json:"content"`
	Username        string          `json:"username,omitempty"`
	Embeds          []discordEmbed  `json:"embeds"`
	AllowedMentions discordMentions `json:"allowed_mentions"`
}

// discordMentions with an empty parse list: no @everyone, role or user
// ping, whatever a service name says.
type discordMentions struct {
	Parse []string `json:"parse"`
}

type discordEmbed struct {
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	URL         string         `json:"url,omitempty"`
	Color       int            `json:"color"`
	Timestamp   string         `json:"timestamp,omitempty"`
	Fields      []discordField `json:"fields,omitempty"`
	Footer      *discordFooter `json:"footer,omitempty"`
}

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type discordFooter struct {
	Text string `json:"text"`
}

// discordColors by tone: blue (test), amber (warning), red (outage), green
// (resolved).
var discordColors = [...]int{0x1E88E5, 0xF9A825, 0xE53935, 0x43A047}

// discordBody renders an event as a Discord message: the headline as the
// content (the notification text) and one embed with the details and the
// evidence, its title linking to the status page.
func discordBody(ev *models.Event, _ string, publicURL string) ([]byte, error) {
	a, err := alertOf(ev, publicURL, discordEscape)
	if err != nil {
		return nil, err
	}
	e := discordEmbed{
		Title: clip(a.tone.icon()+" "+a.title, discordTitleMax), URL: a.url, Color: discordColors[a.tone],
		Timestamp: a.at.Format(time.RFC3339),
	}
	footer := "Outcry"
	if a.incident != 0 {
		footer = "Outcry · " + a.service + " · incident " + strconv.FormatUint(a.incident, 10)
	}
	e.Footer = &discordFooter{Text: clip(footer, discordFooterMax)}
	for i, f := range a.facts {
		if i == discordFieldsMax {
			break
		}
		e.Fields = append(e.Fields, discordField{Name: clip(f.name, discordFieldNameMax), Value: clip(f.value, discordFieldValueMax),
			Inline: f.name != "Rule"})
	}
	// The description gets what the embed's total leaves.
	used := utf16Len(e.Title) + utf16Len(e.Footer.Text)
	for _, f := range e.Fields {
		used += utf16Len(f.Name) + utf16Len(f.Value)
	}
	e.Description = clip(a.detail, min(discordDescriptionMax, max(discordEmbedTotalMax-used, 0)))
	msg := discordMessage{
		Content: clip(a.tone.icon()+" "+a.title, discordContentMax), Username: "Outcry",
		Embeds: []discordEmbed{e}, AllowedMentions: discordMentions{Parse: []string{}},
	}
	return json.Marshal(msg)
}

// discordAccepts: Execute Webhook answers 204 No Content, or 200 OK with
// the message when the URL asks ?wait=true.
func discordAccepts(code int, target *url.URL) bool {
	if code == http.StatusNoContent {
		return true
	}
	return code == http.StatusOK && target != nil && strings.EqualFold(target.Query().Get("wait"), "true")
}

// discordWait reads a 429's wait: the Retry-After header (seconds), or
// without it the body's retry_after (seconds, a float:
// https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit),
// capped like any Retry-After.
func discordWait(code int, h http.Header, body []byte, now time.Time) time.Duration {
	if d := retryAfter(h, now); d > 0 || code != http.StatusTooManyRequests {
		return d
	}
	var rl struct {
		RetryAfter *float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &rl) != nil || rl.RetryAfter == nil || *rl.RetryAfter <= 0 {
		return 0
	}
	secs := min(*rl.RetryAfter, maxInterval.Seconds())
	return time.Duration(secs * float64(time.Second))
}

// discordEscape puts a backslash before Discord's markdown characters, so a
// service named "*x*" shows as typed.
func discordEscape(s string) string {
	return discordEscaper.Replace(s)
}

var discordEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, "~", `\~`, "`", "\\`", `|`, `\|`, `>`, `\>`,
	`#`, `\#`, `[`, `\[`, `]`, `\]`, `(`, `\(`, `)`, `\)`, `<`, `\<`)
