package handlers

import (
	"bytes"
	"html/template"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// servicePage is the view model of /s/{slug} and of its live part.
type servicePage struct {
	pageMeta
	serviceView
	Headline  string     // "problems", "possible" or "none"
	Since     *time.Time // the open incident's start
	Chart     template.HTML
	Learning  bool // no bucket of the chart has a normal range yet
	Problems  []shareView
	Regions   []shareView
	Incidents []incidentView
	NoHistory bool // the incident list could not be read
	Choices   []choice
	Notice    notice
	MaxNote   int
	Origin    string // OUTCRY_PUBLIC_URL, for the embed snippets
	UpdatedAt time.Time
	Official  *officialPageView // nil: no official source
	// Lead is how the official page compared on the open incident, in words.
	Lead string
}

// notice is the report form's message.
type notice struct {
	Kind string // "ok", "warn", "error"
	Text string
}

func (p *pages) servicePage(c *gin.Context, st models.ServiceStatus) servicePage {
	v := serviceViewOf(st)
	sp := servicePage{
		pageMeta: pageMeta{Title: "Is " + v.Name + " down? · Outcry", Description: "Live status of " + v.Name + " and problems reported by its users.",
			Feeds: &feedLinks{Title: "Incidents at " + v.Name, Base: "/s/" + v.Slug}},
		serviceView: v, Headline: "none", Chart: chartSVG(v.Name, st.Series), Learning: !anyBaseline(st.Series),
		Problems: sharesOf(st.TopProblems, problemLabel), Regions: sharesOf(st.TopRegions, regionName),
		Choices: choicesOf(st.Service.Problems), MaxNote: models.MaxNoteRunes,
		Origin: p.h.PublicURL, UpdatedAt: st.UpdatedAt,
	}
	switch v.Level {
	case models.LevelOutage:
		sp.Headline = "problems"
	case models.LevelWarning:
		sp.Headline = "possible"
	}
	ov := p.h.official(c.Request.Context(), st)
	sp.Official = officialPageOf(ov)
	if ov.Lead != nil {
		st = withAcks(st, ov.Lead.Acks)
	}
	if st.Incident != nil && sp.Headline != "none" {
		sp.Since = &st.Incident.StartedAt
		sp.Lead = leadText(*st.Incident)
	}
	list, err := p.incidents.get(c.Request.Context(), p.h, st)
	if err != nil {
		p.h.log.Warn("listing incidents for a page", "request_id", requestID(c), "service", v.Slug, "err", err)
		sp.NoHistory = true
	}
	for _, in := range list {
		sp.Incidents = append(sp.Incidents, incidentViewOf(in))
	}
	return sp
}

// pageInputs is what a service page and its live part are rendered from:
// the service's snapshot version and the tick that computed it (the page
// says when it was updated). The incident list follows the snapshot: it is
// read again when the page is rendered for a new tick (incidentTTL).
func pageInputs(st models.ServiceStatus) uint64 {
	return mix(st.Version, uint64(st.UpdatedAt.UnixNano()))
}

func (p *pages) service(c *gin.Context) {
	st, ok := p.lookup(c.Param("slug"))
	if !ok {
		p.notFound(c)
		return
	}
	key := renderKey{kind: kindPage, slug: st.Service.Slug}
	if c.Request.URL.RawQuery != "" && c.Query("thanks") != "" {
		key.variant = "thanks"
	}
	if !p.h.serveFresh(c, key, p.h.officialInputs(st, pageInputs(st))) {
		p.renderService(c, key, st)
	}
}

// renderService renders and answers a service page (a render cache miss).
func (p *pages) renderService(c *gin.Context, key renderKey, st models.ServiceStatus) {
	p.cachedHTML(c, key, p.h.officialInputs(st, pageInputs(st)), varyEnc, "service.html", func() any {
		sp := p.servicePage(c, st)
		if key.variant == "thanks" {
			sp.Notice = thanks(st.Reports15m)
		}
		return sp
	})
}

// live is the part of a service page that its script refreshes.
func (p *pages) live(c *gin.Context) {
	st, ok := p.lookup(c.Param("slug"))
	if !ok {
		p.notFound(c)
		return
	}
	key := renderKey{kind: kindLive, slug: st.Service.Slug}
	if !p.h.serveFresh(c, key, p.h.officialInputs(st, pageInputs(st))) {
		p.renderLive(c, key, st)
	}
}

// renderLive renders and answers a page's live part (a cache miss).
func (p *pages) renderLive(c *gin.Context, key renderKey, st models.ServiceStatus) {
	p.cachedHTML(c, key, p.h.officialInputs(st, pageInputs(st)), varyEnc, "live", func() any { return p.servicePage(c, st) })
}

var svgType = []string{"image/svg+xml"}

// chart is the 24-hour chart on its own, for images and refreshes.
func (p *pages) chart(c *gin.Context) {
	st, ok := p.lookup(c.Param("slug"))
	if !ok {
		p.notFound(c)
		return
	}
	key := renderKey{kind: kindChart, slug: st.Service.Slug}
	if !p.h.serveFresh(c, key, st.Version) {
		p.renderChart(c, key, st)
	}
}

// renderChart renders and answers a chart (a cache miss).
func (p *pages) renderChart(c *gin.Context, key renderKey, st models.ServiceStatus) {
	spec := renderSpec{status: http.StatusOK, ctype: svgType, cc: snapshotCC, vary: varyEnc}
	r, _ := p.h.render.get(key, st.Version, spec, func(buf *bytes.Buffer) error {
		buf.WriteString(string(chartSVG(st.Service.Name, st.Series)))
		return nil
	})
	serveRendered(c, r, p.h.renderMetrics, kindChart)
}

// anyBaseline says whether any bucket has a normal range to draw (a model
// has one after a day of history).
func anyBaseline(series []models.Bucket) bool {
	for _, b := range series {
		if b.Baseline != nil {
			return true
		}
	}
	return false
}
