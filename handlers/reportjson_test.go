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
	for _, msg := range []string{"too many reports from your network; try again in 12 s", `quote " and é`} {
		want, _ := json.Marshal(ErrorBody{Error: ErrorDetail{Code: models.CodeRateLimited, Message: msg}})
		if got := appendRateLimited(nil, msg); string(got) != string(want) {
			t.Errorf("429 body\n got %s\nwant %s", got, want)
		}
	}
}
