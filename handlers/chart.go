package handlers

import (
	"bytes"
	"html/template"
	"math"
	"strconv"
	"time"

	"github.com/outcry/outcry/models"
)

// The charts are drawn on the server as SVG: no chart library, no CDN, and
// they show without JavaScript. Only numbers and text we write ourselves go
// into them; colours are presentation attributes that the page's stylesheet
// overrides (inline <style> would need 'unsafe-inline').

const (
	chartW, chartH = 720, 240
	padL, padR     = 48, 10
	padT, padB     = 10, 26
	plotW, plotH   = chartW - padL - padR, chartH - padT - padB
)

// svgBuf is a tiny SVG writer: numbers are appended without fmt.
type svgBuf struct{ bytes.Buffer }

func (b *svgBuf) s(parts ...string) *svgBuf {
	for _, p := range parts {
		b.WriteString(p)
	}
	return b
}

func (b *svgBuf) f(v float64) *svgBuf {
	b.Write(strconv.AppendFloat(b.AvailableBuffer(), math.Round(v*10)/10, 'f', -1, 64))
	return b
}

func (b *svgBuf) i(v int) *svgBuf {
	b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(v), 10))
	return b
}

// sparkline draws counts (oldest first) as a small line with a soft area.
func sparkline(counts []int) template.HTML {
	var b svgBuf
	n := len(counts)
	b.s(`<svg class="spark" viewBox="0 0 `).i(max(n-1, 1)).s(` 24" preserveAspectRatio="none" width="96" height="24" aria-hidden="true" focusable="false">`)
	if n > 1 {
		top := 1
		for _, c := range counts {
			top = max(top, c)
		}
		y := func(c int) float64 { return 23 - 21*float64(c)/float64(top) }
		b.s(`<path class="area" fill="currentColor" fill-opacity=".15" d="M0 24`)
		for i, c := range counts {
			b.s(" L").i(i).s(" ").f(y(c))
		}
		b.s(" L").i(n - 1).s(` 24Z"/><polyline fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke" stroke-linejoin="round" points="`)
		for i, c := range counts {
			if i > 0 {
				b.s(" ")
			}
			b.i(i).s(",").f(y(c))
		}
		b.s(`"/>`)
	}
	b.s(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers only
}

// niceScale is the top of the y axis and the step of its grid lines: the
// smallest 1, 2 or 5 × 10^k step that fits top in four steps.
func niceScale(top float64) (ymax, step float64) {
	top = math.Max(top, 4)
	raw := top / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	return step * math.Ceil(top/step), step
}

// chartSVG draws 24 hours of 15-minute buckets as bars over the baseline band
// (where the detector has learned one), for the service called name.
func chartSVG(name string, series []models.Bucket) template.HTML {
	top, latest, expected := 0.0, 0, -1.0
	for _, bk := range series {
		top = math.Max(top, float64(bk.Count))
		if bk.Baseline != nil {
			top = math.Max(top, bk.Baseline.High)
		}
	}
	if n := len(series); n > 0 {
		latest = series[n-1].Count
		if bl := series[n-1].Baseline; bl != nil {
			expected = bl.Expected
		}
	}
	ymax, step := niceScale(top)
	n := max(len(series), 1)
	bw := float64(plotW) / float64(n)
	x := func(i int) float64 { return padL + bw*float64(i) }
	y := func(v float64) float64 { return padT + plotH - plotH*v/ymax }

	var b svgBuf
	b.s(`<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `).i(chartW).s(" ").i(chartH).
		s(`" role="img" aria-labelledby="chart-title chart-desc" font-family="system-ui, sans-serif" font-size="11">`).
		s(`<title id="chart-title">Reports about `).s(template.HTMLEscapeString(name)).s(` per 15 minutes, last 24 hours</title>`).
		s(`<desc id="chart-desc">Latest 15 minutes: `).i(latest).s(" reports")
	if expected >= 0 {
		b.s(", about ").f(expected).s(" expected")
	}
	b.s(`. Peak: `).f(top).s(`.</desc>`)

	// Grid and y labels.
	for v := 0.0; v <= ymax+step/2; v += step {
		b.s(`<line class="grid" x1="`).i(padL).s(`" x2="`).i(chartW - padR).s(`" y1="`).f(y(v)).s(`" y2="`).f(y(v)).s(`" stroke="#8883"/>`)
		b.s(`<text class="axis" x="`).i(padL-6).s(`" y="`).f(y(v)+4).s(`" text-anchor="end" fill="#888">`, axisLabel(v), `</text>`)
	}
	// Baseline band and expected line, one path per run of learned buckets.
	for i := 0; i < len(series); {
		if series[i].Baseline == nil {
			i++
			continue
		}
		j := i
		for j < len(series) && series[j].Baseline != nil {
			j++
		}
		b.s(`<path class="band" fill="#3e63dd" fill-opacity=".14" d="`)
		cmd := "M"
		for k := i; k < j; k++ {
			b.s(cmd).f(x(k)).s(" ").f(y(series[k].Baseline.High)).s(" L").f(x(k + 1)).s(" ").f(y(series[k].Baseline.High))
			cmd = " L"
		}
		for k := j - 1; k >= i; k-- {
			b.s(" L").f(x(k + 1)).s(" ").f(y(series[k].Baseline.Low)).s(" L").f(x(k)).s(" ").f(y(series[k].Baseline.Low))
		}
		b.s(`Z"/><polyline class="expected" fill="none" stroke="#3e63dd" stroke-width="1.5" stroke-dasharray="4 3" points="`)
		for k := i; k < j; k++ {
			b.f(x(k) + bw/2).s(",").f(y(series[k].Baseline.Expected)).s(" ")
		}
		b.s(`"/>`)
		i = j
	}
	// Bars: above the band they are drawn as unusual.
	for i, bk := range series {
		if bk.Count == 0 {
			continue
		}
		class, fill := "bar", "#6e7bdc"
		if bk.Baseline != nil && float64(bk.Count) > bk.Baseline.High {
			class, fill = "bar over", "#e5484d"
		}
		b.s(`<rect class="`, class, `" fill="`, fill, `" x="`).f(x(i)+bw*0.1).s(`" y="`).f(y(float64(bk.Count))).
			s(`" width="`).f(bw*0.8).s(`" height="`).f(plotH-(y(float64(bk.Count))-padT)).s(`" rx="1"><title>`).
			s(bk.Start.UTC().Format("15:04"), " UTC: ").i(bk.Count).s(" ", plural(bk.Count, "report", "reports"), `</title></rect>`)
	}
	// Time axis, relative so it needs no time zone: 24 h ago … now.
	for h := 24; h >= 0; h -= 6 {
		i := n - h*int(time.Hour/models.BucketSize)
		anchor, label := "middle", "−"+strconv.Itoa(h)+" h"
		switch h {
		case 24:
			anchor, i = "start", 0
		case 0:
			anchor, label, i = "end", "now", n
		}
		b.s(`<text class="axis" x="`).f(x(i)).s(`" y="`).i(chartH-8).s(`" text-anchor="`, anchor, `" fill="#888">`, label, `</text>`)
	}
	b.s(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // the name is escaped, the rest is numbers
}

// axisLabel is a y-axis value, thousands as "k": 2500 → "2.5k".
func axisLabel(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
