package webhook

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/outcry/outcry/models"
)

// alert is an event said in words: what the chat and push formats
// (Discord, Teams, ntfy) render, each in its own markup.
type alert struct {
	kind     string       // the event type
	tone     tone         // colour and icon
	title    string       // "Outage at ChatGPT", "Resolved: ChatGPT is back to normal"
	detail   string       // one sentence under the title: since when, how many
	url      string       // the status page (or Outcry for a ping); "" unless absolute http(s)
	facts    []fact       // the evidence, in order
	at       time.Time    // when it happened
	service  string       // the slug ("" for a ping)
	incident uint64       // 0 for a ping
	level    models.Level // "" for a ping
}

type fact struct{ name, value string }

// tone is how an alert looks: outage, warning, resolved or test.
type tone int

const (
	toneTest tone = iota
	toneWarning
	toneOutage
	toneResolved
)

func (t tone) icon() string {
	return [...]string{"🔔", "⚠️", "🔴", "✅"}[t]
}

// alertOf reads an event; esc escapes text that comes from outside (service
// names, problem and region keys, the rule) for the target's markup.
func alertOf(ev *models.Event, publicURL string, esc func(string) string) (alert, error) {
	env, err := ev.Envelope()
	if err != nil {
		return alert{}, err
	}
	a := alert{kind: env.Type, at: env.OccurredAt.UTC()}
	inc := env.Data.Incident
	if inc == nil {
		a.tone, a.url = toneTest, absoluteURL(publicURL)
		a.title = "Outcry test message"
		a.detail = "Hello from Outcry: this subscription works."
		if p := env.Data.Ping; p != nil && p.Message != "" {
			a.detail = p.Message
		}
		return a, nil
	}
	a.service, a.incident, a.level, a.url = inc.Service.Slug, inc.ID, inc.Level, absoluteURL(inc.StatusURL)
	name := esc(inc.Service.Name)
	if name == "" {
		name = esc(inc.Service.Slug)
	}
	where := ""
	if inc.Scope != "" && inc.Scope != models.ScopeGlobal {
		where = " in " + esc(inc.Scope)
	}
	what := "Possible problems"
	a.tone = toneWarning
	if inc.Level == models.LevelOutage {
		what, a.tone = "Outage", toneOutage
	}
	since := inc.StartedAt.UTC().Format("15:04 UTC")
	switch env.Type {
	case models.EventIncidentResolved:
		a.tone = toneResolved
		a.title = fmt.Sprintf("Resolved: %s%s is back to normal", name, where)
		a.detail = fmt.Sprintf("Reports are back to normal (problems since %s).", since)
		if inc.ResolvedAt != nil {
			took := humanDuration(inc.ResolvedAt.Sub(inc.StartedAt))
			a.detail = fmt.Sprintf("Reports are back to normal after %s (problems since %s).", took, since)
			a.facts = append(a.facts, fact{"Duration", took})
		}
		a.facts = append(a.facts, fact{"Started", inc.StartedAt.UTC().Format("2006-01-02 15:04 UTC")})
		return a, nil
	case models.EventIncidentUpdated:
		a.title = fmt.Sprintf("Update: %s at %s%s", strings.ToLower(what), name, where)
	default:
		a.title = fmt.Sprintf("%s at %s%s", what, name, where)
	}
	window := humanDuration(time.Duration(inc.WindowSeconds) * time.Second)
	a.detail = fmt.Sprintf("Users report problems since %s: %.0f reports in %s, %.0f expected.", since, inc.Actual, window, inc.Expected)
	a.facts = append(a.facts, fact{"Reports", fmt.Sprintf("%.0f vs %.0f expected (%.1f×) in %s", inc.Actual, inc.Expected, inc.Ratio, window)})
	if s := shareList(inc.TopProblems, esc); s != "" {
		a.facts = append(a.facts, fact{"Problems", s})
	}
	if s := shareList(inc.TopRegions, esc); s != "" {
		a.facts = append(a.facts, fact{"Regions", s})
	}
	a.facts = append(a.facts, fact{"Started", inc.StartedAt.UTC().Format("2006-01-02 15:04 UTC")})
	if inc.Rule != "" {
		a.facts = append(a.facts, fact{"Rule", esc(inc.Rule)})
	}
	return a, nil
}

// humanDuration is d to the minute in words: "45 min", "2 h 5 min",
// "30 s" under a minute.
func humanDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	m := int(d.Round(time.Minute).Minutes())
	switch {
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m%60 == 0:
		return fmt.Sprintf("%d h", m/60)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

// shareList is the three largest shares, "login 62%, app 20%".
func shareList(s []models.Share, esc func(string) string) string {
	out := make([]string, 0, 3)
	for i, sh := range s {
		if i == 3 {
			break
		}
		out = append(out, fmt.Sprintf("%s %.0f%%", esc(sh.Key), sh.Percent))
	}
	return strings.Join(out, ", ")
}

// absoluteURL is s if it is an absolute http(s) URL, else "" (receivers
// refuse relative links; a status URL is relative when OUTCRY_PUBLIC_URL
// was empty).
func absoluteURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}

// clip shortens s to at most n UTF-16 code units (what Discord counts; never
// more than the code points JSON Schema counts), ending in "…" when cut.
func clip(s string, n int) string {
	if utf16Len(s) <= n {
		return s
	}
	units := 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1
		}
		if units+w > n-1 {
			return s[:i] + "…"
		}
		units += w
	}
	return s
}

// clipBytes shortens s to at most n bytes of UTF-8, ending in "…" when cut.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// utf16Len is the length of s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if w := utf16.RuneLen(r); w > 0 {
			n += w
		} else {
			n++
		}
	}
	return n
}
