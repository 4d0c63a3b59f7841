package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Cache-Control of what is rendered from the snapshot: a shared cache (a CDN
// in front) may reuse it for about one detector tick and keep serving it
// while it revalidates, so a surge of readers costs one request per tick.
var (
	snapshotCC = []string{"public, max-age=10, stale-while-revalidate=30"}
	badgeCC    = []string{"public, max-age=30, stale-while-revalidate=60"}
	varyEnc    = []string{"Accept-Encoding"}
	varyEncLng = []string{"Accept-Encoding, Accept-Language"}
)

// netHTTPBuffered is how much of a body net/http buffers before it decides
// the framing (bufferBeforeChunkingSize in net/http's server.go): a body
// written in one piece no larger than this gets its Content-Length from
// net/http itself, written beside Date without a header map entry. Larger
// bodies need ours, or they would go out chunked (TestRenderedFraming holds
// net/http to this). HEAD comes here as GET (HeadAsGet): net/http frames it
// as the GET and writes no body.
const netHTTPBuffered = 2048

// serveRendered answers a rendered resource: 304 when If-None-Match names
// the ETag of the representation the client would get, else its bytes in
// the best encoding the client accepts.
//
// Every header is a prepared slice shared by all requests (net/http only
// reads them), and a hot answer sets at most 8 header map entries: net/http
// clones the map for every answer, and Go's maps hold 8 entries in one
// group, so a 9th costs each request a table in the handler's map and
// another in the clone (5 allocations and 1.2 KB an answer, measured on
// the embed). Content-Length is left to net/http where it can write it.
func serveRendered(c *gin.Context, r *rendered, metrics *RenderMetrics, kind renderKind) {
	enc := encodingFor(c.Request.Header["Accept-Encoding"], r)
	hd := c.Writer.Header()
	hd["Cache-Control"] = r.cc
	if r.vary != nil {
		hd["Vary"] = r.vary
	}
	if r.status == http.StatusOK {
		hd["Etag"] = r.etag[enc]
		if inm := c.Request.Header["If-None-Match"]; inm != nil && etagMatch(inm, r.etag[enc][0]) {
			metrics.notModified(kind)
			c.Writer.WriteHeader(http.StatusNotModified)
			return
		}
	}
	hd["Content-Type"] = r.ctype
	if len(r.body[enc]) > netHTTPBuffered {
		hd["Content-Length"] = r.length[enc]
	}
	if enc != encIdentity {
		hd["Content-Encoding"] = encHeader[enc]
	}
	c.Writer.WriteHeader(r.status)
	_, _ = c.Writer.Write(r.body[enc])
}

// serveFresh answers from the render cache when the resource of key was
// rendered from inputs, and reports whether it did.
func (h *Handler) serveFresh(c *gin.Context, key renderKey, inputs uint64) bool {
	r, ok := h.render.fresh(key, inputs)
	if ok {
		serveRendered(c, r, h.renderMetrics, key.kind)
	}
	return ok
}

// RenderMetrics count how the render cache answers, by kind of resource.
type RenderMetrics struct {
	hits, misses, notMod [nKinds]prometheus.Counter
}

// NewRenderMetrics creates and registers the render cache's series on reg
// (nil: counted nowhere).
func NewRenderMetrics(reg prometheus.Registerer) *RenderMetrics {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "outcry_render_cache_requests_total",
		Help: "Requests for rendered resources (pages, embed, status and list JSON, badges) by kind and result: hit (served from memory), miss (rendered), not_modified (304 from memory).",
	}, []string{"kind", "result"})
	if reg != nil {
		reg.MustRegister(vec)
	}
	m := &RenderMetrics{}
	for k := range nKinds {
		m.hits[k] = vec.WithLabelValues(kindNames[k], "hit")
		m.misses[k] = vec.WithLabelValues(kindNames[k], "miss")
		m.notMod[k] = vec.WithLabelValues(kindNames[k], "not_modified")
	}
	return m
}

func (m *RenderMetrics) hit(k renderKind)         { m.hits[k].Inc() }
func (m *RenderMetrics) miss(k renderKind)        { m.misses[k].Inc() }
func (m *RenderMetrics) notModified(k renderKind) { m.notMod[k].Inc() }
