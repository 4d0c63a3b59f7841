package handlers

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// Badges: /badge/{slug}.svg in the shields.io "flat" style and
// /badge/{slug}.json for shields.io's endpoint badge. They are the hottest
// read path (embedded in READMEs everywhere), so each is rendered once per
// snapshot version and then written from cache: no template, no formatting,
// no header building per request.

var jsonType = []string{"application/json"}

// badge answers /badge/{slug}.svg and /badge/{slug}.json from the render
// cache: each is rendered once per snapshot version of its service.
func (p *pages) badge(c *gin.Context) {
	file := c.Param("file")
	slug, isSVG := strings.CutSuffix(file, ".svg")
	isJSON := false
	if !isSVG {
		slug, isJSON = strings.CutSuffix(file, ".json")
	}
	hd := c.Writer.Header()
	hd["X-Content-Type-Options"] = nosniff
	if isJSON {
		// Browsers may read the JSON from any site; an <img> needs no CORS.
		hd["Access-Control-Allow-Origin"] = anyOrigin
	}
	st, ok := p.lookup(slug)
	if !ok || !(isSVG || isJSON) {
		hd["Cache-Control"] = badgeCC
		body := p.unknown
		if isJSON {
			// shields.io's endpoint (and any JSON client) gets JSON here too.
			hd["Content-Type"], body = jsonType, p.unknownJS
		} else {
			hd["Content-Type"] = svgType
		}
		c.Writer.WriteHeader(http.StatusNotFound)
		_, _ = c.Writer.Write(body)
		return
	}
	key := renderKey{kind: kindBadge, slug: st.Service.Slug, variant: "svg"}
	inputs := st.Version
	if isJSON {
		key.variant = "json"
		// ?official=1: the message says the official status too (shields.io's
		// endpoint schema has no field of its own for it).
		if c.Request.URL.RawQuery != "" && c.Query("official") == "1" {
			key.variant, inputs = "json-official", p.h.officialInputs(st, st.Version)
		}
	}
	if !p.h.serveFresh(c, key, inputs) {
		p.renderBadge(c, key, st, isSVG, inputs)
	}
}

// renderBadge renders and answers a badge (a render cache miss).
func (p *pages) renderBadge(c *gin.Context, key renderKey, st models.ServiceStatus, isSVG bool, inputs uint64) {
	spec := renderSpec{status: http.StatusOK, ctype: svgType, cc: badgeCC, vary: varyEnc}
	if !isSVG {
		spec.ctype = jsonType
	}
	r, _ := p.h.render.get(key, inputs, spec, func(buf *bytes.Buffer) error {
		if key.variant == "json-official" {
			buf.Write(officialBadgeBody(st, p.h.Official))
			return nil
		}
		buf.Write(badgeBody(st, isSVG))
		return nil
	})
	serveRendered(c, r, p.h.renderMetrics, kindBadge)
}

// shieldsEndpoint is shields.io's endpoint badge schema.
type shieldsEndpoint struct {
	SchemaVersion int    `json:"schemaVersion"`
	Label         string `json:"label"`
	Message       string `json:"message"`
	Color         string `json:"color"`
}

// badgeBody is a service's badge: the SVG, or shields.io's endpoint JSON.
func badgeBody(st models.ServiceStatus, svg bool) []byte {
	info := levelInfos[levelOf(st.Level)]
	if svg {
		return badgeSVG(st.Service.Name, info.Badge, info.Color)
	}
	body, _ := json.Marshal(shieldsEndpoint{SchemaVersion: 1, Label: st.Service.Name, Message: info.Badge, Color: info.Shields})
	return body
}

// unknownShieldsBody is the shields.io endpoint JSON of a service we do not
// know: the grey "unknown service" of the SVG badge.
func unknownShieldsBody() []byte {
	body, _ := json.Marshal(shieldsEndpoint{SchemaVersion: 1, Label: "status", Message: "unknown service", Color: "lightgrey"})
	return body
}

// officialBadgeBody is the shields.io endpoint JSON whose message adds the
// official status: "outage · official: operational", or "official:
// unavailable" while the page cannot be read.
func officialBadgeBody(st models.ServiceStatus, off OfficialReader) []byte {
	info := levelInfos[levelOf(st.Level)]
	msg := info.Badge
	if off != nil {
		if o, ok := off.Official(st.Service.ID); ok && o.Source == st.Service.OfficialStatusURL {
			word := strings.ToLower(officialWords[o.Status])
			if o.UnavailableSince != nil {
				word = "unavailable"
			}
			msg += " · official: " + word
		}
	}
	body, _ := json.Marshal(shieldsEndpoint{SchemaVersion: 1, Label: st.Service.Name, Message: msg, Color: info.Shields})
	return body
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
