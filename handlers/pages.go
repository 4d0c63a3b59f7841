package handlers

import (
	"bytes"
	"hash/fnv"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/static"
)

// pages serves what the public sees: the directory, service pages, the
// embeddable widget and badges. Everything is read from the status snapshot;
// the only database read is a service's incident list, cached briefly.
type pages struct {
	h         *Handler
	tmpl      *template.Template
	assets    *static.Assets
	incidents incidentCache
	badges    badgeCache
	bufs      sync.Pool // of *bytes.Buffer
}

// publicPages registers the public pages, widget and badges.
func (h *Handler) publicPages(r *gin.Engine) {
	p, err := newPages(h)
	if err != nil {
		panic("handlers: the embedded page templates do not parse: " + err.Error())
	}
	pg := r.Group("", secureHTML(pageCSP, false))
	pg.GET("/", p.directory)
	pg.GET("/s/:slug", p.service)
	pg.GET("/s/:slug/live", p.live)
	pg.GET("/s/:slug/chart.svg", p.chart)
	pg.POST("/s/:slug/report", p.reportForm)
	pg.GET("/static/*file", p.asset)
	r.GET("/embed/:slug", secureHTML(embedCSP, true), p.embed)
	r.GET("/widget.js", p.widget)
	// Badges are the hottest read path: embedded in READMEs everywhere and
	// answered from cache. They skip observe (its request id, log line and
	// latency histogram cost more than the badge itself) and keep recovery.
	hot := r.Group("")
	hot.Handlers = gin.HandlersChain{h.recovery()}
	hot.GET("/badge/:file", p.badge)
}

func newPages(h *Handler) (*pages, error) {
	assets, err := static.LoadAssets()
	if err != nil {
		return nil, err
	}
	tmpl, err := static.Templates(assets, pageFuncs)
	if err != nil {
		return nil, err
	}
	p := &pages{h: h, tmpl: tmpl, assets: assets}
	p.incidents.m = map[uint]cachedIncidents{}
	return p, p.badges.init()
}

// Security headers, assigned as prepared slices (no per-request building).
var (
	pageCSP   = []string{"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"}
	embedCSP  = []string{"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'none'; base-uri 'none'; frame-ancestors *"}
	nosniff   = []string{"nosniff"}
	referrer  = []string{"strict-origin-when-cross-origin"}
	frameDeny = []string{"DENY"}
	anyOrigin = []string{"*"}
	crossCORP = []string{"cross-origin"}
	noCache   = []string{"no-cache"}
	htmlType  = []string{"text/html; charset=utf-8"}
)

// secureHTML sets the headers of an HTML answer: its CSP, and with it the
// frame policy (pages refuse every frame; the embed lets any site frame it).
func secureHTML(csp []string, framable bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		hd := c.Writer.Header()
		hd["Content-Security-Policy"] = csp
		hd["X-Content-Type-Options"] = nosniff
		hd["Referrer-Policy"] = referrer
		if framable {
			hd["Cross-Origin-Resource-Policy"] = crossCORP
		} else {
			hd["X-Frame-Options"] = frameDeny
		}
	}
}

// lookup is a service's status from the snapshot; a service created since
// the last detector tick is shown as having no problems yet.
func (p *pages) lookup(slug string) (models.ServiceStatus, bool) {
	if st, ok := p.h.Status.Status(slug); ok {
		return st, true
	}
	if svc, ok := p.h.Catalog.Lookup(slug); ok {
		return models.ServiceStatus{Service: svc, Level: models.LevelOK, UpdatedAt: p.h.Now()}, true
	}
	return models.ServiceStatus{}, false
}

// render executes a template into a pooled buffer and answers it with an
// ETag of the bytes, so a page polled every 30 s costs a 304 when unchanged.
func (p *pages) render(c *gin.Context, status int, name string, data any) {
	buf, _ := p.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() { buf.Reset(); p.bufs.Put(buf) }()
	if err := p.tmpl.ExecuteTemplate(buf, name, data); err != nil {
		p.h.log.Error("rendering a page", "request_id", requestID(c), "template", name, "err", err)
		c.Header("Content-Type", "text/plain; charset=utf-8")
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	hd := c.Writer.Header()
	hd["Content-Type"] = htmlType
	hd["Cache-Control"] = noCache
	if status == http.StatusOK {
		h := fnv.New64a()
		h.Write(buf.Bytes())
		etag := `"` + strconv.FormatUint(h.Sum64(), 36) + `"`
		hd["Etag"] = []string{etag}
		if etagMatch(c.Request.Header["If-None-Match"], etag) {
			c.Status(http.StatusNotModified)
			return
		}
	}
	c.Data(status, htmlType[0], buf.Bytes())
}

// etagMatch reports whether an If-None-Match header names etag (weakly).
func etagMatch(inm []string, etag string) bool {
	for _, v := range inm {
		if v == etag {
			return true
		}
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == etag || t == "*" {
				return true
			}
		}
	}
	return false
}

type errorPage struct {
	pageMeta
	Heading string
	Message string
}

func (p *pages) notFound(c *gin.Context) {
	p.render(c, http.StatusNotFound, "error.html", errorPage{
		pageMeta: pageMeta{Title: "Not found · Outcry"},
		Heading:  "We don't know that service",
		Message:  "No service is called “" + c.Param("slug") + "”. Pick one from the list of all services.",
	})
}

type directoryPage struct {
	pageMeta
	Query    string
	Services []serviceView
	Problems int // how many services have problems
}

// directory lists every service, those with problems first; ?q= filters on
// the server, and the page's script filters as you type.
func (p *pages) directory(c *gin.Context) {
	q := strings.ToLower(strings.TrimSpace(c.Query("q")))
	all := p.h.Status.All()
	d := directoryPage{
		pageMeta: pageMeta{Title: "Outcry · Is it down, or is it just me?", Description: "Live status of popular services, from reports by the people using them."},
		Query:    c.Query("q"), Services: make([]serviceView, 0, len(all)),
	}
	for _, st := range all {
		v := serviceViewOf(st)
		if q != "" && !strings.Contains(v.Search, q) {
			continue
		}
		if v.Level != models.LevelOK {
			d.Problems++
		}
		d.Services = append(d.Services, v)
	}
	p.render(c, http.StatusOK, "index.html", d)
}

// servicePage is the data of /s/{slug} and of its live part.
type servicePage struct {
	pageMeta
	serviceView
	Headline  string     // "problems", "possible" or "none"
	Since     *time.Time // the open incident's start
	Chart     template.HTML
	Problems  []shareView
	Regions   []shareView
	Incidents []incidentView
	NoHistory bool // the incident list could not be read
	Choices   []choice
	Notice    notice
	MaxNote   int
	Origin    string // scheme://host this page was reached at, for the embed snippets
	UpdatedAt time.Time
}

// notice is the report form's message.
type notice struct {
	Kind string // "ok", "warn", "error"
	Text string
}

func (p *pages) servicePage(c *gin.Context, st models.ServiceStatus) servicePage {
	v := serviceViewOf(st)
	sp := servicePage{
		pageMeta:    pageMeta{Title: "Is " + v.Name + " down? · Outcry", Description: "Live status of " + v.Name + " and problems reported by its users."},
		serviceView: v, Headline: "none", Chart: chartSVG(v.Name, st.Series),
		Problems: sharesOf(st.TopProblems, problemLabel), Regions: sharesOf(st.TopRegions, regionName),
		Choices: choicesOf(st.Service.Problems), MaxNote: models.MaxNoteRunes,
		Origin: origin(c), UpdatedAt: st.UpdatedAt,
	}
	switch v.Level {
	case models.LevelOutage:
		sp.Headline = "problems"
	case models.LevelWarning:
		sp.Headline = "possible"
	}
	if st.Incident != nil && sp.Headline != "none" {
		sp.Since = &st.Incident.StartedAt
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

func origin(c *gin.Context) string {
	scheme := "http"
	if c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

func (p *pages) service(c *gin.Context) {
	st, ok := p.lookup(c.Param("slug"))
	if !ok {
		p.notFound(c)
		return
	}
	sp := p.servicePage(c, st)
	if c.Query("thanks") != "" {
		sp.Notice = thanks(st.Reports15m)
	}
	p.render(c, http.StatusOK, "service.html", sp)
}

// live is the part of a service page that its script refreshes.
func (p *pages) live(c *gin.Context) {
	st, ok := p.lookup(c.Param("slug"))
	if !ok {
		p.notFound(c)
		return
	}
	p.render(c, http.StatusOK, "live", p.servicePage(c, st))
}

// chart is the 24-hour chart on its own, for images and refreshes.
func (p *pages) chart(c *gin.Context) {
	st, ok := p.lookup(c.Param("slug"))
	if !ok {
		p.notFound(c)
		return
	}
	hd := c.Writer.Header()
	hd["Cache-Control"] = []string{"public, max-age=30"}
	etag := `"c` + strconv.FormatUint(st.Version, 36) + `"`
	hd["Etag"] = []string{etag}
	if etagMatch(c.Request.Header["If-None-Match"], etag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "image/svg+xml", []byte(chartSVG(st.Service.Name, st.Series)))
}

// asset serves /static/name.HASH.ext: immutable, cached for a year.
func (p *pages) asset(c *gin.Context) {
	a, ok := p.assets.ByPath("/static" + c.Param("file"))
	if !ok {
		c.String(http.StatusNotFound, "not found")
		return
	}
	hd := c.Writer.Header()
	hd["Cache-Control"] = []string{"public, max-age=31536000, immutable"}
	hd["Etag"] = []string{a.ETag}
	c.Data(http.StatusOK, a.Type, a.Body)
}
