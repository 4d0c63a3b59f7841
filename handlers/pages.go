package handlers

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
	"github.com/outcry/outcry/static"
)

// pages serves what the public sees: the directory, service pages, the
// embeddable widget and badges. Everything is read from the status snapshot
// and rendered once per version of what it shows (render.go); the only
// database read is a service's incident list, cached briefly.
type pages struct {
	h         *Handler
	tmpl      *template.Template
	assets    *static.Assets
	incidents incidentCache
	unknown   []byte    // the badge of a service we do not know
	unknownJS []byte    // the same as shields.io endpoint JSON (/badge/{slug}.json)
	bufs      sync.Pool // of *bytes.Buffer, for pages not cached (errors, form answers)
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
	r.GET("/widget.js", p.widget)
	// The embed and badges are the hottest read paths (embedded in other
	// sites and READMEs everywhere) and are answered from the render cache,
	// which counts them (outcry_render_cache_requests_total). They skip
	// observe: its request id, log line and latency histogram cost more
	// than the answer itself. They keep recovery.
	hot := r.Group("")
	hot.Handlers = gin.HandlersChain{h.recovery()}
	hot.GET("/embed/:slug", secureHTML(embedCSP, true), p.embed)
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
	p := &pages{h: h, tmpl: tmpl, assets: assets, unknown: badgeSVG("status", "unknown service", "#9f9f9f"),
		unknownJS: unknownShieldsBody()}
	p.incidents.m = map[uint]cachedIncidents{}
	return p, nil
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
	noStore   = []string{"no-store"}
	htmlType  = []string{"text/html; charset=utf-8"}
)

// secureHTML sets the headers of an HTML answer: its CSP, and with it the
// frame policy (pages refuse every frame; the embed lets any site frame it).
//
// The embed's referrer policy is at the top of its <head> (<meta
// name="referrer">, static/templates/embed.html), which browsers apply to
// the document exactly as the header: the embed is the hottest HTML answer
// and one header more would take its header map past 8 entries
// (serveRendered). Its uncached answers (errors) send the header
// (render).
func secureHTML(csp []string, framable bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		hd := c.Writer.Header()
		hd["Content-Security-Policy"] = csp
		hd["X-Content-Type-Options"] = nosniff
		if framable {
			hd["Cross-Origin-Resource-Policy"] = crossCORP
		} else {
			hd["Referrer-Policy"] = referrer
			hd["X-Frame-Options"] = frameDeny
		}
	}
}

// lookup is a service's status from the snapshot (Handler.lookup).
func (p *pages) lookup(slug string) (models.ServiceStatus, bool) { return p.h.lookup(slug) }

// cachedHTML answers the template name rendered from data() under key, from
// the render cache while inputs are unchanged.
func (p *pages) cachedHTML(c *gin.Context, key renderKey, inputs uint64, vary []string, name string, data func() any) {
	spec := renderSpec{status: http.StatusOK, ctype: htmlType, cc: snapshotCC, vary: vary}
	r, err := p.h.render.get(key, inputs, spec, func(buf *bytes.Buffer) error {
		return p.tmpl.ExecuteTemplate(buf, name, data())
	})
	if err != nil {
		p.h.log.Error("rendering a page", "request_id", requestID(c), "template", name, "err", err)
		c.Header("Content-Type", "text/plain; charset=utf-8")
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	serveRendered(c, r, p.h.renderMetrics, key.kind)
}

// render executes a template into a pooled buffer and answers it, for the
// pages that are not cached: errors and the answers to the report form.
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
	hd["Cache-Control"] = noStore
	hd["Referrer-Policy"] = referrer
	c.Data(status, htmlType[0], buf.Bytes())
}

// mix folds v into the inputs hash h (boost's hash_combine, 64-bit).
func mix(h, v uint64) uint64 {
	return h ^ (v + 0x9e3779b97f4a7c15 + h<<6 + h>>2)
}

// etagMatch reports whether an If-None-Match header names etag (weakly).
func etagMatch(inm []string, etag string) bool {
	for _, v := range inm {
		if v == etag {
			return true
		}
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
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
