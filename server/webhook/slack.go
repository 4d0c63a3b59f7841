package webhook

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/outcry/outcry/models"
)

// slackMessage is a Slack incoming-webhook body.
type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func mrkdwn(s string) *slackText { return &slackText{Type: "mrkdwn", Text: s} }

// slackBody renders an event as a Slack message: a one-line summary (also
// the notification text) and the evidence.
func slackBody(ev *models.Event) ([]byte, error) {
	env, err := ev.Envelope()
	if err != nil {
		return nil, err
	}
	var msg slackMessage
	if inc := env.Data.Incident; inc != nil {
		msg.Text = incidentSummary(env.Type, inc)
		msg.Blocks = []slackBlock{{Type: "section", Text: mrkdwn(msg.Text)}}
		if ctx := incidentEvidence(env.Type, inc); ctx != "" {
			msg.Blocks = append(msg.Blocks, slackBlock{Type: "context", Elements: []slackText{*mrkdwn(ctx)}})
		}
	} else {
		msg.Text = "Outcry test message: this subscription works."
		msg.Blocks = []slackBlock{{Type: "section", Text: mrkdwn(msg.Text)}}
	}
	return json.Marshal(msg)
}

func incidentSummary(typ string, inc *models.IncidentPayload) string {
	name := slackEscape(inc.Service.Name)
	if inc.StatusURL != "" {
		name = "<" + inc.StatusURL + "|" + name + ">"
	}
	where := ""
	if inc.Scope != "" && inc.Scope != models.ScopeGlobal {
		where = " in " + inc.Scope
	}
	level := "Possible problems"
	icon := ":warning:"
	if inc.Level == models.LevelOutage {
		level, icon = "Outage", ":red_circle:"
	}
	switch typ {
	case models.EventIncidentResolved:
		took := ""
		if inc.ResolvedAt != nil {
			took = fmt.Sprintf(" after %s", inc.ResolvedAt.Sub(inc.StartedAt).Round(time.Minute))
		}
		return fmt.Sprintf(":white_check_mark: Resolved: %s%s is back to normal%s.", name, where, took)
	case models.EventIncidentUpdated:
		return fmt.Sprintf("%s Update: %s at %s%s.", icon, strings.ToLower(level), name, where)
	}
	return fmt.Sprintf("%s %s at %s%s since %s.", icon, level, name, where, inc.StartedAt.UTC().Format("15:04 UTC"))
}

func incidentEvidence(typ string, inc *models.IncidentPayload) string {
	if typ == models.EventIncidentResolved {
		return ""
	}
	parts := []string{fmt.Sprintf("%.0f reports vs %.0f expected (%.1f×)", inc.Actual, inc.Expected, inc.Ratio)}
	if s := shareList(inc.TopProblems, slackEscape); s != "" {
		parts = append(parts, "problems: "+s)
	}
	if s := shareList(inc.TopRegions, slackEscape); s != "" {
		parts = append(parts, "regions: "+s)
	}
	return strings.Join(parts, " · ")
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
