package webhook

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/testkit"
	"github.com/outcry/outcry/models"
)

// The receiver in docs/webhooks.md is testdata/receiver/main.go, word for
// word; it builds, accepts a delivery signed as the dispatcher signs, and
// refuses a forged one.
func TestDocsReceiverExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```go\n(.*?)```").FindSubmatch(doc)
	src, err := os.ReadFile("testdata/receiver/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if m == nil || string(m[1]) != string(src) {
		t.Fatal("the Go example in docs/webhooks.md differs from testdata/receiver/main.go; keep them identical")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the example with")
	}
	bin := filepath.Join(t.TempDir(), "receiver")
	if out, err := exec.Command(gobin, "build", "-o", bin, "./testdata/receiver").CombinedOutput(); err != nil {
		t.Fatalf("building the documented receiver: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	secret := models.NewSecret()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), "ADDR="+addr, "OUTCRY_WEBHOOK_SECRET="+secret)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })

	ev, _ := models.NewIncidentEvent(models.EventIncidentOpened, testService("chatgpt"), testIncident(), "", time.Now())
	send := func(secret string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/hooks/outcry", strings.NewReader(string(ev.Payload)))
		if err := sign(req.Header, ev.ID, time.Now(), ev.Payload, []string{secret}); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	testkit.Eventually(t, 10*time.Second, "the documented receiver to listen", func() bool { return send(secret) != 0 })
	if got := send(secret); got != http.StatusNoContent {
		t.Errorf("signed delivery: %d; want 204", got)
	}
	if got := send(models.NewSecret()); got != http.StatusUnauthorized {
		t.Errorf("forged delivery: %d; want 401", got)
	}
}
