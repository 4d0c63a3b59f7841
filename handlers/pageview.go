package handlers

import (
	"html/template"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/outcry/outcry/models"
)

// levelInfo is how each level is put into words and colours, everywhere the
// public sees it: pages, the iframe widget and badges.
type levelInfo struct {
	Text    string // pages: "Possible problems"
	Badge   string // badges: "possible problems"
	Color   string // badge SVG fill
	Shields string // shields.io endpoint colour name
}

var levelInfos = map[models.Level]levelInfo{
	models.LevelOK:      {Text: "No problems", Badge: "operational", Color: "#4c1", Shields: "brightgreen"},
	models.LevelWarning: {Text: "Possible problems", Badge: "possible problems", Color: "#fe7d37", Shields: "orange"},
	models.LevelOutage:  {Text: "Outage", Badge: "outage", Color: "#e05d44", Shields: "red"},
}

// levelOf is l, or ok when the snapshot has not judged the service yet.
func levelOf(l models.Level) models.Level {
	if _, ok := levelInfos[l]; ok {
		return l
	}
	return models.LevelOK
}

// pageMeta is what every page's <head> needs.
type pageMeta struct {
	Title       string
	Description string
	Feeds       *feedLinks // <link rel="alternate"> for feed readers' autodiscovery
}

// serviceView is a service as the public pages show it.
type serviceView struct {
	Slug       string
	Name       string
	Level      models.Level
	Status     string // levelInfos[Level].Text
	Reports15m int
	Spark      template.HTML
	URL        string
}

func serviceViewOf(st models.ServiceStatus) serviceView {
	level := levelOf(st.Level)
	counts := make([]int, len(st.Series))
	for i, b := range st.Series {
		counts[i] = b.Count
	}
	return serviceView{
		Slug: st.Service.Slug, Name: st.Service.Name, Level: level, Status: levelInfos[level].Text,
		Reports15m: st.Reports15m, Spark: sparkline(counts), URL: "/s/" + st.Service.Slug,
	}
}

// shareView is one problem's or region's part of recent reports.
type shareView struct {
	Label   string
	Count   int
	Percent float64
}

func sharesOf(list []models.Share, label func(string) string) []shareView {
	out := make([]shareView, 0, len(list))
	for _, s := range list {
		out = append(out, shareView{Label: label(s.Key), Count: s.Count, Percent: s.Percent})
	}
	return out
}

// choice is one radio button of the report form.
type choice struct {
	Value string
	Label string
}

func choicesOf(problems []string) []choice {
	out := make([]choice, 0, len(problems))
	for _, p := range problems {
		out = append(out, choice{Value: p, Label: problemLabel(p)})
	}
	return out
}

// incidentView is one incident in the service page's history.
type incidentView struct {
	ID       uint64 // the list item's anchor: /s/{slug}#incident-{id}
	Level    models.Level
	Status   string
	Scope    string
	Started  time.Time
	Ended    *time.Time
	PeakAt   time.Time
	Peak     float64
	Expected float64
	Actual   float64
	// Lead says how the official status page compared, in words ("" when
	// it has not acknowledged the incident).
	Lead  string
	AckAt *time.Time
}

// leadWords puts a lead time into words: positive, users reported first.
func leadWords(seconds int64) string {
	switch {
	case seconds >= 60:
		return "Users reported problems " + durationWords(seconds) + " before the official status page"
	case seconds <= -60:
		return "The official status page reported it " + durationWords(-seconds) + " before users did"
	}
	return "The official status page acknowledged it at the same time as users reported it"
}

// durationWords is a span in minutes, or hours and minutes.
func durationWords(s int64) string {
	m := (s + 30) / 60
	if m < 60 {
		return strconv.FormatInt(m, 10) + " " + pluralWord(m, "minute", "minutes")
	}
	h, m := m/60, m%60
	out := strconv.FormatInt(h, 10) + " " + pluralWord(h, "hour", "hours")
	if m > 0 {
		out += " " + strconv.FormatInt(m, 10) + " " + pluralWord(m, "minute", "minutes")
	}
	return out
}

func pluralWord(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// officialWords are the official levels in words.
var officialWords = map[models.OfficialLevel]string{
	models.OfficialOperational: "Operational", models.OfficialDegraded: "Degraded performance",
	models.OfficialPartialOutage: "Partial outage", models.OfficialMajorOutage: "Major outage",
	models.OfficialMaintenance: "Under maintenance", models.OfficialUnknown: "Unknown",
}

// officialPageView is the official status line of a service page.
type officialPageView struct {
	Level       string // a CSS level: ok, warning, outage, unknown
	Status      string // in words
	Description string
	UpdatedAt   *time.Time
	URL         string
	Unavailable *time.Time
	Summary     string // the 90-day comparison in words; "" if unknown
}

func officialPageOf(v officialView) *officialPageView {
	if v.Status == nil {
		return nil
	}
	o := v.Status
	pv := &officialPageView{Status: officialWords[o.Status], Description: o.Description, UpdatedAt: o.UpdatedAt,
		URL: o.URL, Unavailable: o.UnavailableSince, Level: "unknown"}
	switch {
	case o.Status == models.OfficialOperational:
		pv.Level = "ok"
	case o.Status == models.OfficialMajorOutage || o.Status == models.OfficialPartialOutage:
		pv.Level = "outage"
	case o.Status == models.OfficialDegraded || o.Status == models.OfficialMaintenance:
		pv.Level = "warning"
	}
	if pv.Status == "" {
		pv.Status = "Unknown"
	}
	if l := v.Lead; l != nil {
		pv.Summary = "Last " + strconv.Itoa(l.Days) + " days: " + strconv.Itoa(l.Incidents) + " " +
			pluralWord(int64(l.Incidents), "incident", "incidents") + " from user reports, " + strconv.Itoa(l.Acknowledged) +
			" acknowledged by the official status page"
		if l.MedianLeadSeconds != nil {
			m := *l.MedianLeadSeconds
			switch {
			case m >= 60:
				pv.Summary += "; users were ahead by " + durationWords(m) + " (median)"
			case m <= -60:
				pv.Summary += "; the official page was ahead by " + durationWords(-m) + " (median)"
			default:
				pv.Summary += "; at the same time (median)"
			}
		}
		pv.Summary += "."
	}
	return pv
}

func incidentViewOf(in models.Incident) incidentView {
	level := levelOf(in.Level)
	scope := "Everywhere"
	if in.Scope != models.ScopeGlobal && in.Scope != "" {
		scope = regionName(in.Scope)
	}
	return incidentView{
		ID: in.ID, Level: level, Status: levelInfos[level].Text, Scope: scope, Started: in.StartedAt,
		Ended: in.ResolvedAt, PeakAt: in.PeakAt, Peak: in.Peak, Expected: in.Expected, Actual: in.Actual,
		Lead: leadText(in), AckAt: in.OfficialAcknowledgedAt,
	}
}

func leadText(in models.Incident) string {
	if l := in.LeadSeconds(); l != nil {
		return leadWords(*l)
	}
	return ""
}

// acronyms are problem-slug words shown in capitals (or their usual case).
var acronyms = map[string]string{
	"api": "API", "ai": "AI", "sso": "SSO", "ui": "UI", "dns": "DNS", "cdn": "CDN", "sms": "SMS",
	"2fa": "2FA", "mfa": "MFA", "vpn": "VPN", "ios": "iOS", "url": "URL", "ssl": "SSL", "gpu": "GPU",
	"tv": "TV", "pc": "PC", "otp": "OTP", "id": "ID", "sdk": "SDK", "cli": "CLI",
}

// problemLabel turns a problem slug into words: "voice-mode" → "Voice mode",
// "api" → "API", "ios_app" → "iOS app".
func problemLabel(slug string) string {
	words := strings.FieldsFunc(slug, func(r rune) bool { return r == '-' || r == '_' })
	for i, w := range words {
		if a, ok := acronyms[w]; ok {
			words[i] = a
		} else if i == 0 {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

var regionNames = display.English.Regions()

// regionName is a country's English name ("KR" → "South Korea").
func regionName(code string) string {
	if code == models.UnknownRegion {
		return "Unknown location"
	}
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	if n := regionNames.Name(r); n != "" {
		return n
	}
	return code
}

// thousands formats n with commas: 1234 → "1,234".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pageFuncs are the helpers page templates call.
var pageFuncs = template.FuncMap{
	"num": thousands,
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	// clock is a UTC time of day; the page's script rewrites it to local time.
	"clock":  func(t time.Time) string { return t.UTC().Format("15:04") + " UTC" },
	"date":   func(t time.Time) string { return t.UTC().Format("Jan 2, 15:04") + " UTC" },
	"pct":    func(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" },
	"round":  func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) },
	"fixed":  func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"plural": plural,
	"sub":    func(a, b int) int { return a - b },
	"ratio": func(actual, expected float64) string {
		if expected <= 0 {
			return ""
		}
		return strconv.FormatFloat(actual/expected, 'f', 1, 64) + "×"
	},
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
