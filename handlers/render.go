package handlers

import (
	"bytes"
	"compress/gzip"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/cespare/xxhash/v2"
	"github.com/maypok86/otter/v2"
	"golang.org/x/sync/singleflight"
)

// The read paths (pages, the embed, the status and list JSON, badges) are
// rendered once per version of what they show and then served from memory as
// bytes: identity, gzip and brotli, each with a strong ETag of its own.
//
// A resource is found by its renderKey and is fresh while the inputs it was
// rendered from are unchanged: the handler computes inputs (a hash of the
// snapshot versions and anything else the view model reads) before it looks,
// so a new snapshot makes the next request render again — lazily, once, while
// concurrent requests for the same key wait for that one rendering. Entries
// are bounded by bytes (renderCacheBytes); what is not asked for is never
// rendered, so 50,000 services cost only what people look at.
//
// To show more on a page (official status, a banner): add it to the view
// model the render function builds, and add its version to the inputs the
// handler computes; nothing else changes.

// renderKind names what a cache entry is, for its key and its metrics.
type renderKind uint8

const (
	kindPage renderKind = iota
	kindLive
	kindEmbed
	kindStatus
	kindList
	kindDirectory
	kindBadge
	kindChart
	kindOpenAPI
	kindStatuspage
	kindIncidents
	kindFeed
	nKinds
)

var kindNames = [nKinds]string{"page", "live", "embed", "status_json", "list_json", "directory", "badge", "chart", "openapi", "statuspage", "incidents_json", "feed"}

// renderKey identifies one cached resource: a kind, a service (or "" for a
// list) and a variant (language and theme, a query, a badge format).
type renderKey struct {
	kind    renderKind
	slug    string
	variant string
}

// Encodings of a rendered body, in order of preference.
const (
	encIdentity = iota
	encBrotli
	encGzip
	nEnc
)

var encSuffix = [nEnc]string{"", "-br", "-gz"}
var encHeader = [nEnc][]string{nil, {"br"}, {"gzip"}}

// minCompress is the smallest body worth compressing: below it the
// compressed body is barely smaller and the exchange no cheaper.
const minCompress = 512

// rendered is one resource rendered once: its bodies and prepared headers.
type rendered struct {
	inputs uint64 // what it was rendered from: fresh while the handler's inputs equal it
	status int
	ctype  []string
	cc     []string // Cache-Control
	vary   []string // nil when it has a single representation
	body   [nEnc][]byte
	etag   [nEnc][]string
	length [nEnc][]string // Content-Length
}

// size is the entry's weight in the cache.
func (r *rendered) size() uint32 {
	n := 256
	for _, b := range r.body {
		n += len(b)
	}
	return uint32(n)
}

// renderCache holds rendered resources, bounded by bytes.
type renderCache struct {
	c       *otter.Cache[renderKey, *rendered]
	flight  singleflight.Group
	metrics *RenderMetrics
	bufs    sync.Pool // of *bytes.Buffer
}

// renderCacheBytes bounds the cache: about 1,500 service pages in all their
// encodings, or tens of thousands of badges and embeds.
const renderCacheBytes = 64 << 20

func newRenderCache(m *RenderMetrics) *renderCache {
	return &renderCache{
		c: otter.Must(&otter.Options[renderKey, *rendered]{
			MaximumWeight: renderCacheBytes,
			Weigher:       func(_ renderKey, r *rendered) uint32 { return r.size() },
		}),
		metrics: m,
	}
}

// renderSpec says how to answer a freshly rendered body.
type renderSpec struct {
	status int
	ctype  []string
	cc     []string
	vary   []string
}

// get returns the resource of key rendered from inputs, rendering it (once,
// however many ask at the same moment) when the cached one is missing or
// was rendered from other inputs. render writes the identity body into buf.
// Handlers call serveFresh first and build their render closures only on a
// miss, in a function of their own: a closure that captures the service's
// status makes Go copy it to the heap in the function that builds it.
func (rc *renderCache) get(key renderKey, inputs uint64, spec renderSpec, render func(buf *bytes.Buffer) error) (*rendered, error) {
	if r, ok := rc.c.GetIfPresent(key); ok && r.inputs == inputs {
		rc.metrics.hit(key.kind)
		return r, nil
	}
	rc.metrics.miss(key.kind)
	fk := strconv.Itoa(int(key.kind)) + "\x00" + key.slug + "\x00" + key.variant + "\x00" + strconv.FormatUint(inputs, 36)
	v, err, _ := rc.flight.Do(fk, func() (any, error) {
		if r, ok := rc.c.GetIfPresent(key); ok && r.inputs == inputs {
			return r, nil // rendered while this call waited for the flight
		}
		buf, _ := rc.bufs.Get().(*bytes.Buffer)
		if buf == nil {
			buf = new(bytes.Buffer)
		}
		defer func() { buf.Reset(); rc.bufs.Put(buf) }()
		if err := render(buf); err != nil {
			return nil, err
		}
		r := newRendered(inputs, spec, bytes.Clone(buf.Bytes()))
		rc.c.Set(renderKey{kind: key.kind, slug: strings.Clone(key.slug), variant: strings.Clone(key.variant)}, r)
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*rendered), nil
}

// fresh is the cached resource of key if it was rendered from inputs.
func (rc *renderCache) fresh(key renderKey, inputs uint64) (*rendered, bool) {
	if r, ok := rc.c.GetIfPresent(key); ok && r.inputs == inputs {
		rc.metrics.hit(key.kind)
		return r, true
	}
	return nil, false
}

// newRendered prepares every encoding of body with its headers. The ETag is
// a hash of the identity body, so a rendering that comes out the same as the
// last keeps its ETag and revalidations keep answering 304.
func newRendered(inputs uint64, spec renderSpec, body []byte) *rendered {
	r := &rendered{inputs: inputs, status: spec.status, ctype: spec.ctype, cc: spec.cc, vary: spec.vary}
	tag := strconv.FormatUint(xxhash.Sum64(body), 36)
	r.body[encIdentity] = body
	if len(body) >= minCompress {
		r.body[encGzip] = gzipped(body)
		r.body[encBrotli] = brotlied(body)
	}
	for e := range nEnc {
		if r.body[e] != nil {
			r.etag[e] = []string{`"` + tag + encSuffix[e] + `"`}
			r.length[e] = []string{strconv.Itoa(len(r.body[e]))}
		}
	}
	return r
}

func gzipped(b []byte) []byte {
	var out bytes.Buffer
	w, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return out.Bytes()
}

// brotliQuality is fast enough to run on the request that finds a page
// stale (about a millisecond for a service page) and still beats gzip.
const brotliQuality = 6

func brotlied(b []byte) []byte {
	var out bytes.Buffer
	w := brotli.NewWriterLevel(&out, brotliQuality)
	_, _ = w.Write(b)
	_ = w.Close()
	return out.Bytes()
}

// encodingFor picks the best encoding of r that the Accept-Encoding header
// values allow: brotli, then gzip, else identity.
func encodingFor(accept []string, r *rendered) int {
	if r.body[encGzip] == nil || len(accept) == 0 {
		return encIdentity
	}
	br, gz := false, false
	for _, v := range accept {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			name, params, _ := strings.Cut(tok, ";")
			name = strings.TrimSpace(name)
			if zeroQ(params) {
				continue
			}
			switch {
			case strings.EqualFold(name, "br"):
				br = true
			case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
				gz = true
			case name == "*":
				br, gz = true, true
			}
		}
	}
	switch {
	case br:
		return encBrotli
	case gz:
		return encGzip
	}
	return encIdentity
}

// zeroQ reports whether a coding's parameters say q=0 (not acceptable).
func zeroQ(params string) bool {
	params = strings.TrimSpace(params)
	q, ok := strings.CutPrefix(params, "q=")
	if !ok {
		q, ok = strings.CutPrefix(params, "Q=")
	}
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
	return err == nil && f == 0
}
