package handlers

import (
	"encoding/json"
	"testing"

	"github.com/outcry/outcry/models"
)

// TestReportJSONMatchesEncodingJSON: the hand-appended bodies are byte for
// byte what encoding/json (gin's c.JSON) would send.
func TestReportJSONMatchesEncodingJSON(t *testing.T) {
	for _, out := range []ReportAccepted{
		{Accepted: true, Counted: true, ID: 42, Service: "chatgpt", Problem: "login", Region: "KR", Reports15m: 1234},
		{Accepted: true, ID: 1<<63 + 5, Service: "a-b", Problem: `say "hi" <b>&`, Region: "ZZ"},
		{Service: "ünïcode", Problem: "tab\there\u2028", Region: "\x01"},
	} {
		want, _ := json.Marshal(out)
		if got := appendReportAccepted(nil, out); string(got) != string(want) {
			t.Errorf("202 body\n got %s\nwant %s", got, want)
		}
	}
	for _, retry := range []int{1, 12, 3600} {
		for _, byNetwork := range []bool{false, true} {
			msg := rateLimitMessage(retry, byNetwork)
			want, _ := json.Marshal(ErrorBody{Error: ErrorDetail{Code: models.CodeRateLimited, Message: msg}})
			if got := appendRateLimitedRetry(nil, retry, byNetwork); string(got) != string(want) {
				t.Errorf("429 body\n got %s\nwant %s", got, want)
			}
		}
	}
}

// FuzzDecodeReportFast: whenever the fast decoder takes a body, encoding/json
// accepts it too and decodes the same report.
func FuzzDecodeReportFast(f *testing.F) {
	for _, s := range []string{
		`{"problem":"login","region":"KR"}`, ` { "problem" : "app" , "note" : "안녕 hi" } `, `{}`, `{"Problem":"x"}`,
		`{"problem":"a","problem":"b"}`, `{"note":"\u00e9"}`, `{"note":"` + "\xff" + `"}`, `{"problem":"x"} x`,
		`{"problem":"x",}`, `{"region":1}`, `[]`, `{"note":"a\tb"}`, "{\"note\":\"a\u2028b\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast models.ReportInput
		if !decodeReportFast(body, &fast) {
			return
		}
		var want models.ReportInput
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("fast decoder took %q, encoding/json refuses it: %v", body, err)
		}
		if fast != want {
			t.Fatalf("%q: fast %+v, encoding/json %+v", body, fast, want)
		}
	})
}

func TestDecodeReportFast(t *testing.T) {
	for body, ok := range map[string]bool{
		`{"problem":"login","region":"KR"}`: true, "\n{\"note\":\"é\"}\n": true, `{}`: true, `{"problem":"a","problem":"b"}`: true,
		`{"Problem":"x"}`: false, `{"note":"\n"}`: false, `{"problem":"x"} x`: false, `{"problem":"x",}`: false,
		`{"region":1}`: false, `[]`: false, `{"note":"` + "\xff" + `"}`: false, `{"problem":"x"`: false, ``: false,
	} {
		var in models.ReportInput
		if got := decodeReportFast([]byte(body), &in); got != ok {
			t.Errorf("%q: fast path %v, want %v", body, got, ok)
		}
	}
	var in models.ReportInput
	decodeReportFast([]byte(`{"problem":"a","problem":"b","region":"kr","note":" n "}`), &in)
	if in != (models.ReportInput{Problem: "b", Region: "kr", Note: " n "}) {
		t.Errorf("decoded %+v", in)
	}
}
