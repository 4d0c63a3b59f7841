package handlers

import (
	"bytes"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/feeds"

	"github.com/outcry/outcry/models"
)

// Feeds of incidents, Atom and RSS, for all services (/feed.atom,
// /feed.rss) and per service (/s/{slug}/feed.atom, /s/{slug}/feed.rss).
//
// One item per announced transition, as a feed reader expects news: an
// incident opened, escalated, re-opened or grew (updated), resolved. The
// items are the webhook outbox's events (written in the incident's own
// transaction), so the feed says exactly what subscribers were told, and
// an item never changes once published. Its id is a tag URI that names
// the incident and the event, `tag:<host>,2026:incident/<id>/event/<event
// id>`, stable across requests, restarts and replicas (RSS: a guid with
// isPermaLink="false"); its link is the incident on its service's page
// under OUTCRY_PUBLIC_URL (never the request's Host header, which a client
// chooses). Newest first, 50 items (?limit= up to 200), as far back as
// events are kept (OUTCRY_RETENTION).
//
// A feed is rendered through the render cache once per snapshot (the
// detector writes events before it publishes): readers polling get a 304
// for as long as the body comes out the same, since the ETag is its hash.

type feedFormat uint8

const (
	feedAtom feedFormat = iota
	feedRSS
)

var (
	atomType = []string{"application/atom+xml; charset=utf-8"}
	rssType  = []string{"application/rss+xml; charset=utf-8"}
	feedCC   = []string{"public, max-age=60"}
)

// Feed sizes: the default and the most a request may ask for.
const (
	feedDefault = 50
	feedMax     = 200
)

// feedEpoch is a feed's updated time while it has no items (a constant,
// so an empty feed keeps its ETag).
var feedEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// feedLinks are the Atom and RSS feeds a page's head points feed readers
// to: Base + "/feed.atom" and "/feed.rss" ("" for all services, or
// "/s/{slug}"), titled for what they cover.
type feedLinks struct {
	Title string
	Base  string
}

// allFeeds are the feeds of every service (the home page's head).
var allFeeds = &feedLinks{Title: "Incidents at every service"}

// feedRoutes registers the feeds.
func (h *Handler) feedRoutes(r *gin.Engine) {
	r.GET("/feed.atom", func(c *gin.Context) { h.feed(c, feedAtom, "") })
	r.GET("/feed.rss", func(c *gin.Context) { h.feed(c, feedRSS, "") })
	r.GET("/s/:slug/feed.atom", func(c *gin.Context) { h.feed(c, feedAtom, c.Param("slug")) })
	r.GET("/s/:slug/feed.rss", func(c *gin.Context) { h.feed(c, feedRSS, c.Param("slug")) })
}

// feed answers one feed: all services when slug is "", else that service's
// (404 in the one JSON error shape when there is none).
func (h *Handler) feed(c *gin.Context, format feedFormat, slug string) {
	var svc models.Service
	if slug != "" {
		var ok bool
		if svc, ok = h.Catalog.Lookup(slug); !ok {
			h.respondError(c, models.Errorf(models.CodeNotFound, "no service %q", slug))
			return
		}
	}
	limit, err := queryInt(c, "limit", feedDefault, 1, feedMax)
	if err != nil {
		h.respondError(c, err)
		return
	}
	seq, _ := h.Status.Published()
	// The service's id is in the key: a slug deleted and created again is
	// another service with other events.
	key := renderKey{kind: kindFeed, slug: slug, variant: strconv.Itoa(int(format)) + "/" + strconv.Itoa(limit) + "/" + strconv.FormatUint(uint64(svc.ID), 10)}
	if h.serveFresh(c, key, seq) {
		return
	}
	h.renderFeed(c, key, seq, format, svc, limit)
}

// renderFeed reads the events and renders a feed (a cache miss).
func (h *Handler) renderFeed(c *gin.Context, key renderKey, seq uint64, format feedFormat, svc models.Service, limit int) {
	spec := renderSpec{status: http.StatusOK, ctype: atomType, cc: feedCC, vary: varyEnc}
	if format == feedRSS {
		spec.ctype = rssType
	}
	r, err := h.render.get(key, seq, spec, func(buf *bytes.Buffer) error {
		evs, err := h.Incidents.IncidentEvents(c.Request.Context(), svc.ID, limit)
		if err != nil {
			return err
		}
		f := h.buildFeed(svc, evs)
		if format == feedRSS {
			return f.WriteRss(buf)
		}
		return f.WriteAtom(buf)
	})
	if err != nil {
		h.respondError(c, err)
		return
	}
	serveRendered(c, r, h.renderMetrics, key.kind)
}

// buildFeed makes the feed of events (newest first) of svc, or of every
// service when svc is zero.
func (h *Handler) buildFeed(svc models.Service, evs []models.Event) *feeds.Feed {
	base := strings.TrimRight(h.PublicURL, "/")
	host := "outcry"
	if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	f := &feeds.Feed{
		Title:       "Outcry: incidents at every service",
		Link:        &feeds.Link{Href: base + "/"},
		Description: "Problems people report at the services Outcry follows: each incident opened, updated and resolved.",
		Author:      &feeds.Author{Name: "Outcry"},
		Updated:     feedEpoch,
	}
	if svc.ID != 0 {
		f.Title = "Outcry: incidents at " + svc.Name
		f.Link = &feeds.Link{Href: base + "/s/" + svc.Slug}
		f.Description = "Problems people report at " + svc.Name + ": each incident opened, updated and resolved."
	}
	for i := range evs {
		it, ok := feedItem(&evs[i], base, host)
		if !ok {
			continue
		}
		if f.Updated.Equal(feedEpoch) || it.Updated.After(f.Updated) {
			f.Updated = it.Updated
		}
		f.Items = append(f.Items, it)
	}
	return f
}

// feedItem is one event as a feed item; false if its payload is unreadable.
func feedItem(ev *models.Event, base, host string) (*feeds.Item, bool) {
	env, err := ev.Envelope()
	if err != nil || env.Data.Incident == nil {
		return nil, false
	}
	in := env.Data.Incident
	at := ev.OccurredAt.UTC()
	return &feeds.Item{
		Id:          "tag:" + host + ",2026:incident/" + strconv.FormatUint(in.ID, 10) + "/event/" + ev.ID,
		IsPermaLink: "false",
		Title:       feedTitle(ev.Type, in),
		Link:        &feeds.Link{Href: base + incidentPath(in.Service.Slug, in.ID)},
		Description: feedBody(ev.Type, in),
		Author:      &feeds.Author{Name: "Outcry"},
		Created:     at,
		Updated:     at,
	}, true
}

// feedTitle is "[Outage] ChatGPT: user reports 16× normal",
// "[Resolved] ChatGPT: reports are back to normal", and so on.
func feedTitle(typ string, in *models.IncidentPayload) string {
	name := in.Service.Name
	if in.Scope != models.ScopeGlobal && in.Scope != "" {
		name += " in " + regionName(in.Scope)
	}
	level := "[" + levelInfos[levelOf(in.Level)].Text + "] "
	ratio := ""
	if in.Expected > 0 {
		ratio = strconv.FormatFloat(in.Actual/in.Expected, 'f', 0, 64) + "× normal"
	}
	switch typ {
	case models.EventIncidentResolved:
		return "[Resolved] " + name + ": reports are back to normal"
	case models.EventIncidentUpdated:
		if ratio != "" {
			return level + name + ": still going, user reports " + ratio
		}
		return level + name + ": still going"
	}
	if ratio != "" {
		return level + name + ": user reports " + ratio
	}
	return level + name + ": user reports well above normal"
}

// feedBody is the item's HTML: the evidence, when it began (and ended), the
// top problems and regions.
func feedBody(typ string, in *models.IncidentPayload) string {
	var b strings.Builder
	p := func(s string) { b.WriteString("<p>" + html.EscapeString(s) + "</p>") }
	switch typ {
	case models.EventIncidentOpened:
		p("Outcry opened an incident: " + strings.ToLower(levelInfos[levelOf(in.Level)].Text) + ".")
	case models.EventIncidentUpdated:
		p("The incident is still open: " + strings.ToLower(levelInfos[levelOf(in.Level)].Text) + ".")
	case models.EventIncidentResolved:
		p("The incident is resolved.")
	}
	if in.Expected > 0 || in.Actual > 0 {
		p(strconv.FormatFloat(in.Actual, 'f', -1, 64) + " reports where " + strconv.FormatFloat(in.Expected, 'f', 1, 64) +
			" were expected, over " + span(time.Duration(in.WindowSeconds)*time.Second) + ".")
	}
	when := "Started " + in.StartedAt.UTC().Format("Jan 2, 15:04 UTC")
	if in.ResolvedAt != nil {
		when += ", ended " + in.ResolvedAt.UTC().Format("Jan 2, 15:04 UTC")
	}
	p(when + ".")
	shares := func(label string, list []models.Share, name func(string) string) {
		if len(list) == 0 {
			return
		}
		parts := make([]string, len(list))
		for i, s := range list {
			parts[i] = name(s.Key) + " " + strconv.FormatFloat(s.Percent, 'f', -1, 64) + "%"
		}
		p(label + ": " + strings.Join(parts, ", ") + ".")
	}
	shares("Top problems", in.TopProblems, problemLabel)
	shares("Where", in.TopRegions, regionName)
	return b.String()
}

// span is a window in words: "5 minutes", "1 hour", "90 seconds".
func span(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " " + plural(int(d/time.Hour), "hour", "hours")
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " " + plural(int(d/time.Minute), "minute", "minutes")
	}
	return strconv.Itoa(int(d/time.Second)) + " " + plural(int(d/time.Second), "second", "seconds")
}
