package models

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// Outside input never panics the parsers, and what they accept is what
// they promise. scripts/test runs each fuzzer for a bounded time; the seed
// corpora are in testdata/fuzz.

func FuzzNormalizeRegion(f *testing.F) {
	for _, s := range []string{"KR", "kr", "ZZ", "ı", "ſ", "", "XX", "\xff\xfe", "Kı"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := NormalizeRegion(s)
		if !ok {
			if got != "" {
				t.Fatalf("rejected %q but returned %q", s, got)
			}
			return
		}
		if len(got) != 2 || got[0] < 'A' || got[0] > 'Z' || got[1] < 'A' || got[1] > 'Z' || !strings.EqualFold(got, s) {
			t.Fatalf("accepted %q as %q", s, got)
		}
		if again, ok := NormalizeRegion(got); !ok || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, ok)
		}
	})
}

// FuzzReportJSON decodes a report body the way the handler does and
// validates it: no panic, and an accepted report is normalised.
func FuzzReportJSON(f *testing.F) {
	for _, s := range []string{
		`{"problem":"login"}`, `{"problem":"app","region":"kr","note":" hi "}`, `{"problem":"login","region":"ı"}`,
		`{"problem":"login","region":"ſ"}`, `{"problem":"login","note":"\ud800"}`, `{}`, `[]`, `null`, `{"problem":1}`,
	} {
		f.Add([]byte(s))
	}
	svc := &Service{Slug: "chatgpt", Problems: []string{"login", "app", "api"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in ReportInput
		if json.Unmarshal(body, &in) != nil {
			return
		}
		if err := in.Validate(svc); err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("code %q for %q", ErrorCode(err), body)
			}
			return
		}
		if !svc.HasProblem(in.Problem) || !utf8.ValidString(in.Note) || utf8.RuneCountInString(in.Note) > MaxNoteRunes || in.Note != strings.TrimSpace(in.Note) {
			t.Fatalf("accepted %+v from %q", in, body)
		}
		if in.Region != "" {
			if r, ok := NormalizeRegion(in.Region); !ok || r != in.Region {
				t.Fatalf("accepted region %q from %q", in.Region, body)
			}
		}
	})
}

// FuzzWebhookURL: an accepted subscription URL is an absolute http(s) URL
// with a host, within the length bound.
func FuzzWebhookURL(f *testing.F) {
	for _, s := range []string{"https://example.com/hook", "http://[::1]:8080/x", "ftp://x", "//x", "https://", "http://a b", "https://%zz", "javascript:alert(1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		w := Webhook{URL: raw}
		if err := w.Validate(); err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("code %q for %q", ErrorCode(err), raw)
			}
			return
		}
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || len(w.URL) > MaxURLLength {
			t.Fatalf("accepted %q", raw)
		}
	})
}

// FuzzServiceJSON: an admin's service body never panics validation, and an
// accepted service has a valid slug, name and problems.
func FuzzServiceJSON(f *testing.F) {
	for _, s := range []string{
		`{"slug":"acme","name":"Acme","problems":["login"]}`, `{"slug":"a","name":" ","problems":[]}`,
		`{"slug":"acme","name":"x","problems":["a","a"]}`, `{"slug":"acme","name":"x","problems":["login"],"cold_start":-5}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in struct {
			Slug      string   `json:"slug"`
			Name      string   `json:"name"`
			Problems  []string `json:"problems"`
			ColdStart int      `json:"cold_start"`
		}
		if json.Unmarshal(body, &in) != nil {
			return
		}
		s := Service{Slug: in.Slug, Name: in.Name, Problems: in.Problems, ColdStart: in.ColdStart}
		if err := s.Validate(); err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("code %q for %q", ErrorCode(err), body)
			}
			return
		}
		if !slugRe.MatchString(s.Slug) || s.Name == "" || len(s.Problems) == 0 || len(s.Problems) > MaxProblems {
			t.Fatalf("accepted %+v", s)
		}
	})
}
