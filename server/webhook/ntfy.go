package webhook

import (
	"encoding/json"

	"github.com/outcry/outcry/models"
)

// ntfyMessage is ntfy's "publish as JSON" body
// (https://docs.ntfy.sh/publish/#publish-as-json), POSTed to the server's
// root URL rather than the topic's.
type ntfyMessage struct {
	Topic    string       `json:"topic"`
	Title    string       `json:"title"`
	Message  string       `json:"message"`
	Tags     []string     `json:"tags"`
	Priority int          `json:"priority"`
	Click    string       `json:"click,omitempty"`
	Actions  []ntfyAction `json:"actions,omitempty"`
}

type ntfyAction struct {
	Action string `json:"action"` // "view"
	Label  string `json:"label"`
	URL    string `json:"url"`
	Clear  bool   `json:"clear"`
}

// ntfy's limits: a message over 4096 bytes becomes an attachment; the
// title is one line.
const (
	ntfyMessageMax = 4000
	ntfyTitleMax   = 250
)

// ntfyTags are emoji short codes ntfy shows before the title, by tone.
var ntfyTags = [...]string{"bell", "warning", "rotating_light", "white_check_mark"}

// ntfyPriority by tone: 2 low (a test), 3 default (possible problems,
// resolved), 4 high (an outage: a long vibration burst).
var ntfyPriority = [...]int{2, 3, 4, 3}

// ntfyBody renders an event as an ntfy message to the topic the
// subscription's URL ends in, clicking through to the status page.
func ntfyBody(ev *models.Event, hookURL, publicURL string) ([]byte, error) {
	_, topic, err := models.NtfyTarget(hookURL)
	if err != nil {
		return nil, err
	}
	a, err := alertOf(ev, publicURL, func(s string) string { return s })
	if err != nil {
		return nil, err
	}
	msg := ntfyMessage{
		Topic: topic, Title: clipBytes(a.title, ntfyTitleMax), Tags: []string{ntfyTags[a.tone]}, Priority: ntfyPriority[a.tone],
		Click: a.url,
	}
	if a.service != "" {
		msg.Tags = append(msg.Tags, a.service)
	}
	text := a.detail
	for _, f := range a.facts {
		text += "\n" + f.name + ": " + f.value
	}
	msg.Message = clipBytes(text, ntfyMessageMax)
	if a.url != "" && a.incident != 0 {
		msg.Actions = []ntfyAction{{Action: "view", Label: "Status page", URL: a.url}}
	}
	return json.Marshal(msg)
}

// ntfyTarget is where an ntfy subscription's messages go: the server's
// root URL (publishing JSON to the topic URL would post the JSON as text).
func ntfyTarget(raw string) (string, error) {
	root, _, err := models.NtfyTarget(raw)
	return root, err
}
