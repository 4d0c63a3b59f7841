package webhook

import (
	"encoding/json"

	"github.com/outcry/outcry/models"
)

// teamsMessage is what a Microsoft Teams Workflows webhook ("When a Teams
// webhook request is received", the successor of the retired Office 365
// connectors) takes: a message with one Adaptive Card attachment.
type teamsMessage struct {
	Type        string            `json:"type"` // "message"
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"` // application/vnd.microsoft.card.adaptive
	ContentURL  *string   `json:"contentUrl"`  // always null
	Content     teamsCard `json:"content"`
}

// teamsCard is an Adaptive Card 1.4 (the highest version Teams renders
// everywhere, mobile included).
type teamsCard struct {
	Schema  string          `json:"$schema"`
	Type    string          `json:"type"` // "AdaptiveCard"
	Version string          `json:"version"`
	Body    []any           `json:"body"`
	Actions []teamsOpenURL  `json:"actions,omitempty"`
	MSTeams *teamsCardWidth `json:"msteams,omitempty"`
}

type teamsCardWidth struct {
	Width string `json:"width"` // "Full": use the channel's width
}

type teamsTextBlock struct {
	Type     string `json:"type"` // "TextBlock"
	Text     string `json:"text"`
	Wrap     bool   `json:"wrap"`
	Weight   string `json:"weight,omitempty"`
	Size     string `json:"size,omitempty"`
	Color    string `json:"color,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Spacing  string `json:"spacing,omitempty"`
}

type teamsFactSet struct {
	Type  string      `json:"type"` // "FactSet"
	Facts []teamsFact `json:"facts"`
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type teamsOpenURL struct {
	Type  string `json:"type"` // "Action.OpenUrl"
	Title string `json:"title"`
	URL   string `json:"url"`
}

// teamsColors by tone: the Adaptive Card colour names.
var teamsColors = [...]string{"Accent", "Warning", "Attention", "Good"}

// teamsFieldMax bounds each text (a Workflows request is at most 28 KB).
const teamsFieldMax = 1024

// teamsBody renders an event as an Adaptive Card: the headline in the
// tone's colour, a sentence of detail, the evidence as facts, and a button to the
// status page.
func teamsBody(ev *models.Event, _ string, publicURL string) ([]byte, error) {
	a, err := alertOf(ev, publicURL, teamsText)
	if err != nil {
		return nil, err
	}
	card := teamsCard{
		Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
		MSTeams: &teamsCardWidth{Width: "Full"},
		Body: []any{
			teamsTextBlock{Type: "TextBlock", Text: clip(a.tone.icon()+" "+a.title, teamsFieldMax), Wrap: true, Weight: "Bolder",
				Size: "Medium", Color: teamsColors[a.tone]},
			teamsTextBlock{Type: "TextBlock", Text: clip(a.detail, teamsFieldMax), Wrap: true, IsSubtle: true, Spacing: "None"},
		},
	}
	if len(a.facts) > 0 {
		fs := teamsFactSet{Type: "FactSet"}
		for _, f := range a.facts {
			fs.Facts = append(fs.Facts, teamsFact{Title: f.name, Value: clip(f.value, teamsFieldMax)})
		}
		card.Body = append(card.Body, fs)
	}
	if a.url != "" {
		title := "Open the status page"
		if a.incident == 0 {
			title = "Open Outcry"
		}
		card.Actions = []teamsOpenURL{{Type: "Action.OpenUrl", Title: title, URL: a.url}}
	}
	return json.Marshal(teamsMessage{Type: "message", Attachments: []teamsAttachment{{
		ContentType: "application/vnd.microsoft.card.adaptive", Content: card,
	}}})
}

// teamsText leaves outside text as it is: service names and problem keys
// come from the admin, and TextBlock markdown has no escape Teams is known
// to honour everywhere (a backslash may show as typed).
func teamsText(s string) string { return s }
