package webhook

import (
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// The receiver in docs/webhooks.md is testdata/receiver/main.go, word for
// word, and it builds.
func TestDocsReceiverExampleBuilds(t *testing.T) {
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
	if out, err := exec.Command(gobin, "build", "-o", os.DevNull, "./testdata/receiver").CombinedOutput(); err != nil {
		t.Fatalf("building the documented receiver: %v\n%s", err, out)
	}
}
