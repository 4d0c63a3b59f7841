package handlers

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/outcry/outcry/models"
)

// errorJSON must give exactly the bytes encoding/json gives for ErrorBody,
// whatever the message holds.
func TestErrorJSONMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		"", "plain", `quote " and backslash \`, "<script>&amp;</script>", "tab\tnew\nline\rcr",
		"\b\f\x00\x01\x1f\x7f", "é 漢字 🙂", "\u2028\u2029", "bad \xff\xfe utf-8 \xc3", "too many reports from your network; try again in 42 s",
	}
	for c := byte(0); c < 128; c++ {
		cases = append(cases, "x"+string([]byte{c})+"y")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		b := make([]byte, r.IntN(12))
		for j := range b {
			b[j] = byte(r.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, msg := range cases {
		want, err := json.Marshal(ErrorBody{Error: ErrorDetail{Code: models.CodeRateLimited, Message: msg}})
		if err != nil {
			t.Fatal(err)
		}
		if got := errorJSON(models.CodeRateLimited, msg); string(got) != string(want) {
			t.Errorf("message %q:\n got %s\nwant %s", msg, got, want)
		}
	}
}
