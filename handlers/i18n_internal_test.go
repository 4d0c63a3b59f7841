package handlers

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/outcry/outcry/models"
)

// The script widget (static/assets/widget.js) carries its own copy of the
// words the iframe embed and the pages say (embedLangs, acronyms): nothing
// at run time makes them agree, so this test does.
func TestWidgetScriptSpeaksLikeTheServer(t *testing.T) {
	src, err := os.ReadFile("../static/assets/widget.js")
	if err != nil {
		t.Fatal(err)
	}
	js := string(src)

	// var T = { en: ['No problems', ...], ko: [...], ... };
	block := regexp.MustCompile(`(?s)var T = \{(.*?)\n  \};`).FindStringSubmatch(js)
	if block == nil {
		t.Fatal("widget.js: no `var T = {…};` block")
	}
	langs := map[string][]string{}
	for _, m := range regexp.MustCompile(`(?s)(\w+): \[(.*?)\]`).FindAllStringSubmatch(block[1], -1) {
		langs[m[1]] = jsStrings(t, m[2])
	}
	if len(langs) != len(embedLangs) {
		t.Errorf("widget.js speaks %d languages, the embed %d", len(langs), len(embedLangs))
	}
	for lang, w := range embedLangs {
		s := langs[lang]
		if len(s) < 12 {
			t.Errorf("%s: widget.js has %d strings", lang, len(s))
			continue
		}
		// t[LEVEL[status]], t[4] and fmt(11, n) in widget.js.
		for i, lv := range []models.Level{models.LevelOK, models.LevelWarning, models.LevelOutage} {
			if s[i] != w.Levels[lv] {
				t.Errorf("%s %s: widget.js %q, embed %q", lang, lv, s[i], w.Levels[lv])
			}
		}
		if s[4] != w.Report {
			t.Errorf("%s report button: widget.js %q, embed %q", lang, s[4], w.Report)
		}
		if got := strings.Replace(s[11], "{n}", "%s", 1); got != w.Reports {
			t.Errorf("%s count: widget.js %q, embed %q", lang, s[11], w.Reports)
		}
	}

	// var AC = { api: 'API', ..., '2fa': '2FA', ... };
	ac := regexp.MustCompile(`(?s)var AC = \{(.*?)\};`).FindStringSubmatch(js)
	if ac == nil {
		t.Fatal("widget.js: no `var AC = {…};` block")
	}
	pairs := regexp.MustCompile(`'?([\w]+)'?: '([^']*)'`).FindAllStringSubmatch(ac[1], -1)
	got := map[string]string{}
	for _, p := range pairs {
		got[p[1]] = p[2]
	}
	if len(got) != len(acronyms) {
		t.Errorf("widget.js has %d acronyms, the pages %d", len(got), len(acronyms))
	}
	for k, v := range acronyms {
		if got[k] != v {
			t.Errorf("acronym %s: widget.js %q, pages %q", k, got[k], v)
		}
	}
}

// jsStrings decodes the single-quoted JavaScript strings in list.
func jsStrings(t *testing.T, list string) []string {
	t.Helper()
	var out []string
	for _, m := range regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`).FindAllStringSubmatch(list, -1) {
		q := strings.ReplaceAll(strings.ReplaceAll(m[1], `\'`, `'`), `"`, `\"`)
		s, err := strconv.Unquote(`"` + q + `"`)
		if err != nil {
			t.Fatalf("widget.js string %q: %v", m[1], err)
		}
		out = append(out, s)
	}
	return out
}
