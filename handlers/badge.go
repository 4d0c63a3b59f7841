package handlers

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// Badges: /badge/{slug}.svg in the shields.io "flat" style and
// /badge/{slug}.json for shields.io's endpoint badge. They are the hottest
// read path (embedded in READMEs everywhere), so each is rendered once per
// snapshot version and then written from cache: no template, no formatting,
// no header building per request.

// badgeOut is one rendered badge with its prepared headers.
type badgeOut struct {
	version uint64
	body    []byte
	ctype   []string
	etag    []string
}

// badgeSlot holds the latest rendering of one badge URL.
type badgeSlot struct{ cur atomic.Pointer[badgeOut] }

// badgeCache maps "slug.svg" / "slug.json" to its slot. The map is replaced
// (copy on write) only when a service's first badge is asked for, so a read
// is one atomic load and one map lookup, without locks.
type badgeCache struct {
	mu      sync.Mutex
	slots   atomic.Pointer[map[string]*badgeSlot]
	unknown *badgeOut
}

var (
	badgeCacheControl = []string{"public, max-age=30"}
	svgType           = []string{"image/svg+xml"}
	jsonType          = []string{"application/json"}
)

func (bc *badgeCache) init() error {
	bc.slots.Store(&map[string]*badgeSlot{})
	bc.unknown = &badgeOut{body: badgeSVG("status", "unknown service", "#9f9f9f"), ctype: svgType}
	return nil
}

// slot returns the slot of file, making it if need be.
func (bc *badgeCache) slot(file string) *badgeSlot {
	if s, ok := (*bc.slots.Load())[file]; ok {
		return s
	}
	bc.mu.Lock()
	defer bc.mu.Unlock()
	old := *bc.slots.Load()
	if s, ok := old[file]; ok {
		return s
	}
	m := make(map[string]*badgeSlot, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	s := &badgeSlot{}
	m[strings.Clone(file)] = s
	bc.slots.Store(&m)
	return s
}

// badge answers /badge/{slug}.svg and /badge/{slug}.json.
func (p *pages) badge(c *gin.Context) {
	file := c.Param("file")
	slug, isSVG := strings.CutSuffix(file, ".svg")
	isJSON := false
	if !isSVG {
		slug, isJSON = strings.CutSuffix(file, ".json")
	}
	hd := c.Writer.Header()
	hd["Cache-Control"] = badgeCacheControl
	hd["X-Content-Type-Options"] = nosniff
	if isJSON {
		// Browsers may read the JSON from any site; an <img> needs no CORS.
		hd["Access-Control-Allow-Origin"] = anyOrigin
	}
	st, ok := p.lookup(slug)
	if !ok || !(isSVG || isJSON) {
		u := p.badges.unknown
		hd["Content-Type"] = u.ctype
		c.Writer.WriteHeader(http.StatusNotFound)
		_, _ = c.Writer.Write(u.body)
		return
	}
	slot := p.badges.slot(file)
	out := slot.cur.Load()
	if out == nil || out.version != st.Version {
		out = renderBadge(st, isSVG)
		slot.cur.Store(out)
	}
	hd["Etag"] = out.etag
	if inm := c.Request.Header["If-None-Match"]; inm != nil && etagMatch(inm, out.etag[0]) {
		c.Writer.WriteHeader(http.StatusNotModified)
		return
	}
	hd["Content-Type"] = out.ctype
	c.Writer.WriteHeader(http.StatusOK)
	_, _ = c.Writer.Write(out.body)
}

// shieldsEndpoint is shields.io's endpoint badge schema.
type shieldsEndpoint struct {
	SchemaVersion int    `json:"schemaVersion"`
	Label         string `json:"label"`
	Message       string `json:"message"`
	Color         string `json:"color"`
}

func renderBadge(st models.ServiceStatus, svg bool) *badgeOut {
	info := levelInfos[levelOf(st.Level)]
	v := strconv.FormatUint(st.Version, 36)
	if svg {
		return &badgeOut{
			version: st.Version, body: badgeSVG(st.Service.Name, info.Badge, info.Color),
			ctype: svgType, etag: []string{`"b` + v + `"`},
		}
	}
	body, _ := json.Marshal(shieldsEndpoint{SchemaVersion: 1, Label: st.Service.Name, Message: info.Badge, Color: info.Shields})
	return &badgeOut{version: st.Version, body: body, ctype: jsonType, etag: []string{`"j` + v + `"`}}
}

// verdana11 holds the advance widths of Verdana at 11 px for ' ' … '~', in
// hundredths of a pixel: the table shields.io's badge-maker measures with.
var verdana11 = [95]uint16{
	387, 433, 505, 900, 699, 1184, 799, 295, 500, 500, 699, 900, 400, 500, 400, 500, // space … /
	699, 699, 699, 699, 699, 699, 699, 699, 699, 699, 500, 500, 900, 900, 900, 600, // 0 … ?
	1100, 752, 754, 768, 848, 696, 632, 853, 827, 463, 500, 762, 612, 927, 823, 866, // @ … O
	663, 866, 765, 752, 678, 805, 752, 1088, 754, 677, 754, 500, 500, 500, 900, 699, // P … _
	699, 661, 685, 573, 685, 655, 387, 685, 696, 302, 379, 651, 302, 1070, 696, 668, // ` … o
	685, 685, 469, 573, 433, 696, 651, 900, 651, 651, 578, 698, 500, 698, 900, // p … ~
}

// textWidth is the rendered width of s in Verdana 11 px, rounded up to an
// odd number of pixels as badge-maker does (so text centres on a pixel).
// Characters outside the table count as wide as 'm' (CJK is wider still,
// but textLength squeezes it to fit).
func textWidth(s string) int {
	w := 0
	for _, r := range s {
		if r >= ' ' && r <= '~' {
			w += int(verdana11[r-' '])
		} else {
			w += int(verdana11['m'-' '])
		}
	}
	px := int(math.Ceil(float64(w) / 100))
	if px%2 == 0 {
		px++
	}
	return px
}

// badgeSVG draws a flat badge in the shields.io manner: grey label,
// coloured message, Verdana 11 px (drawn at 110 and scaled, with textLength
// so a missing font cannot overflow). No gradient or text shadow: half the
// bytes, and badges are fetched a lot.
func badgeSVG(label, message, color string) []byte {
	if utf8.RuneCountInString(label) > 40 {
		label = string([]rune(label)[:39]) + "…"
	}
	const pad = 5
	lt, mt := textWidth(label), textWidth(message)
	lw, mw := lt+2*pad, mt+2*pad
	el, em := xmlEscape(label), xmlEscape(message)
	var b svgBuf
	b.s(`<svg xmlns="http://www.w3.org/2000/svg" width="`).i(lw+mw).s(`" height="20" role="img" aria-label="`, el, ": ", em, `"><title>`, el, ": ", em, `</title>`).
		s(`<clipPath id="r"><rect width="`).i(lw+mw).s(`" height="20" rx="3"/></clipPath>`).
		s(`<g clip-path="url(#r)"><rect width="`).i(lw).s(`" height="20" fill="#555"/><rect x="`).i(lw).s(`" width="`).i(mw).s(`" height="20" fill="`, color, `"/></g>`).
		s(`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="110" transform="scale(.1)">`).
		s(`<text x="`).i(lw*5).s(`" y="140" textLength="`).i(lt*10).s(`">`, el, `</text>`).
		s(`<text x="`).i((lw*2+mw)*5).s(`" y="140" textLength="`).i(mt*10).s(`">`, em, `</text></g></svg>`)
	return b.Bytes()
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func xmlEscape(s string) string { return xmlEscaper.Replace(s) }
