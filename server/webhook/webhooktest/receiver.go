// Package webhooktest is a real webhook receiver on loopback, for tests of
// webhook deliveries (run the app with OUTCRY_WEBHOOK_ALLOW_PRIVATE on).
package webhooktest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/outcry/outcry/internal/testkit"
)

// Request is one request a receiver got.
type Request struct {
	At     time.Time
	Method string
	Path   string // the path and query it was sent to
	Header http.Header
	Body   []byte
}

// Answer is what a receiver answers one request with.
type Answer struct {
	Status int
	Header http.Header // optional
	Body   string      // optional
}

// Receiver is an HTTP endpoint on 127.0.0.1 that records every request and
// answers with the answers it was given, in turn (the last one repeats;
// none = 200).
type Receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []Request
	answers []Answer
}

// NewReceiver starts a receiver that answers with these status codes,
// closed when the test ends.
func NewReceiver(tb testing.TB, codes ...int) *Receiver {
	return NewScriptedReceiver(tb, statuses(codes)...)
}

// NewScriptedReceiver starts a receiver that answers with these answers
// (status, headers and body), closed when the test ends.
func NewScriptedReceiver(tb testing.TB, answers ...Answer) *Receiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return newReceiverOn(tb, ln, answers)
}

// NewReceiverOn is NewReceiver on a listener of the test's choosing (a
// receiver that comes up on an address given out earlier).
func NewReceiverOn(tb testing.TB, ln net.Listener, codes ...int) *Receiver {
	return newReceiverOn(tb, ln, statuses(codes))
}

func statuses(codes []int) []Answer {
	out := make([]Answer, len(codes))
	for i, c := range codes {
		out[i] = Answer{Status: c}
	}
	return out
}

func newReceiverOn(tb testing.TB, ln net.Listener, answers []Answer) *Receiver {
	r := &Receiver{answers: answers}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, Request{At: time.Now(), Method: req.Method, Path: req.URL.RequestURI(), Header: req.Header.Clone(), Body: body})
		a := Answer{Status: http.StatusOK}
		if len(r.answers) > 0 {
			a = r.answers[min(len(r.got), len(r.answers))-1]
		}
		r.mu.Unlock()
		for k, v := range a.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(a.Status)
		_, _ = io.WriteString(w, a.Body)
	}))
	r.Server.Listener.Close()
	r.Server.Listener = ln
	r.Server.Start()
	tb.Cleanup(r.Close)
	return r
}

// Requests is what the receiver got so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.got...)
}

// Wait waits up to d for at least n requests and returns them all.
func (r *Receiver) Wait(tb testing.TB, n int, d time.Duration) []Request {
	tb.Helper()
	var got []Request
	testkit.Eventually(tb, d, fmt.Sprintf("%d requests at the receiver", n), func() bool { got = r.Requests(); return len(got) >= n })
	return got
}

// Verify checks a request's Standard Webhooks signature (and that its
// timestamp is within 5 minutes) with secret.
func Verify(secret string, req Request) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	return wh.Verify(req.Body, req.Header)
}
