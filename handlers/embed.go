package handlers

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// The embeddable widget comes in two forms: /widget.js, a script that
// renders into a Shadow DOM on any site (static/assets/widget.js), and
// /embed/{slug}, a tiny server-rendered page for an iframe, for sites whose
// Content-Security-Policy forbids third-party scripts.

var widgetCacheControl = []string{"public, max-age=300"}

// widget serves widget.js at its stable URL, readable from any origin and
// cached briefly so a fix reaches every site within minutes.
func (p *pages) widget(c *gin.Context) {
	a, ok := p.assets.Get("widget.js")
	if !ok {
		c.String(http.StatusNotFound, "not found")
		return
	}
	hd := c.Writer.Header()
	hd["Access-Control-Allow-Origin"] = anyOrigin
	hd["Cross-Origin-Resource-Policy"] = crossCORP
	hd["X-Content-Type-Options"] = nosniff
	hd["Cache-Control"] = widgetCacheControl
	hd["Etag"] = []string{a.ETag}
	if etagMatch(c.Request.Header["If-None-Match"], a.ETag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", a.Body)
}

// embedWords are the iframe widget's words in each language it speaks; the
// script widget carries its own copy of them (TestWidgetScriptSpeaksLikeTheServer
// checks that the copies agree, and the acronyms too).
type embedWords struct {
	Levels  map[models.Level]string
	Reports string // "%s reports in 15 min" with the count in place of %s
	Report  string
}

var embedLangs = map[string]embedWords{
	"en": {Levels: map[models.Level]string{models.LevelOK: "No problems", models.LevelWarning: "Possible problems", models.LevelOutage: "Outage"},
		Reports: "%s reports in 15 min", Report: "Report a problem"},
	"ko": {Levels: map[models.Level]string{models.LevelOK: "문제 없음", models.LevelWarning: "문제 가능성", models.LevelOutage: "장애"},
		Reports: "15분간 %s건 신고", Report: "문제 신고"},
	"id": {Levels: map[models.Level]string{models.LevelOK: "Tidak ada masalah", models.LevelWarning: "Kemungkinan ada masalah", models.LevelOutage: "Gangguan"},
		Reports: "%s laporan dalam 15 menit", Report: "Laporkan masalah"},
	"zh": {Levels: map[models.Level]string{models.LevelOK: "运行正常", models.LevelWarning: "可能存在问题", models.LevelOutage: "服务中断"},
		Reports: "15 分钟内 %s 份报告", Report: "报告问题"},
}

// embedLang picks lang (the ?lang= parameter), else the first language of
// Accept-Language we speak, else English.
func embedLang(lang, accept string) string {
	if l, ok := spokenLang(lang); ok {
		return l
	}
	for accept != "" {
		var tag string
		tag, accept, _ = strings.Cut(accept, ",")
		if l, ok := spokenLang(tag); ok {
			return l
		}
	}
	return "en"
}

// spokenLang is the embed language of a language tag ("ko-KR;q=0.8" → ko).
func spokenLang(tag string) (string, bool) {
	tag = strings.TrimSpace(tag)
	if len(tag) < 2 {
		return "", false
	}
	for l := range embedLangs {
		if strings.EqualFold(tag[:2], l) {
			return l, true
		}
	}
	return "", false
}

type embedPage struct {
	Lang     string
	Theme    string // "light", "dark" or "auto"
	Name     string
	Level    models.Level
	Status   string
	Count    string
	Official string // " · official: operational", "" without an official source
	Report   string
	Spark    template.HTML
	PageURL  string
}

// embed is the iframe widget: status dot, words, sparkline and a link to the
// service page. It refreshes itself every minute without script. Each
// language and theme is rendered once per snapshot version of the service.
func (p *pages) embed(c *gin.Context) {
	st, ok := p.lookup(c.Param("slug"))
	if !ok {
		p.notFound(c)
		return
	}
	var q url.Values // parsed only when there is a query: most embeds have none
	if c.Request.URL.RawQuery != "" {
		q = c.Request.URL.Query()
	}
	lang := embedLang(q.Get("lang"), c.Request.Header.Get("Accept-Language"))
	theme := q.Get("theme")
	if theme != "light" && theme != "dark" {
		theme = "auto"
	}
	// Fresh while neither the service's snapshot nor its official status
	// changed: the board's entry is read once, for the key and the
	// rendering alike.
	key := renderKey{kind: kindEmbed, slug: st.Service.Slug, variant: embedVariants[lang][theme]}
	o, hasOfficial := p.h.officialOf(st)
	inputs := st.Version
	if hasOfficial {
		inputs = mix(inputs, o.Version+1)
	}
	if !p.h.serveFresh(c, key, inputs) {
		p.renderEmbed(c, key, inputs, st, o, hasOfficial, lang, theme)
	}
}

// renderEmbed renders and answers an embed (a render cache miss).
func (p *pages) renderEmbed(c *gin.Context, key renderKey, inputs uint64, st models.ServiceStatus, o models.OfficialStatus, hasOfficial bool, lang, theme string) {
	p.cachedHTML(c, key, inputs, varyEncLng, "embed.html", func() any {
		w := embedLangs[lang]
		v := serviceViewOf(st)
		e := embedPage{
			Lang: lang, Theme: theme, Name: v.Name, Level: v.Level, Status: w.Levels[v.Level],
			Count: strings.Replace(w.Reports, "%s", thousands(v.Reports15m), 1), Report: w.Report,
			Spark: v.Spark, PageURL: v.URL,
		}
		if hasOfficial {
			e.Official = officialSuffix(o)
		}
		return e
	})
}

// embedVariants are the embed's cache variants, made once: language → theme
// → "lang/theme" (so a request builds no key string).
var embedVariants = func() map[string]map[string]string {
	m := map[string]map[string]string{}
	for lang := range embedLangs {
		m[lang] = map[string]string{}
		for _, theme := range []string{"light", "dark", "auto"} {
			m[lang][theme] = lang + "/" + theme
		}
	}
	return m
}()
