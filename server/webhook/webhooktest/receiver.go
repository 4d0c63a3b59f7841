// Package webhooktest is a real webhook receiver on loopback, for tests of
// webhook deliveries (run the app with OUTCRY_WEBHOOK_ALLOW_PRIVATE on).
package webhooktest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Request is one request a receiver got.
type Request struct {
	At     time.Time
	Header http.Header
	Body   []byte
}

// Receiver is an HTTP endpoint on 127.0.0.1 that records every request and
// answers with the status codes it was given, in turn (the last one
// repeats; none = 200).
type Receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []Request
	answers []int
}

// NewReceiver starts a receiver, closed when the test ends.
func NewReceiver(tb testing.TB, answers ...int) *Receiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return NewReceiverOn(tb, ln, answers...)
}

// NewReceiverOn is NewReceiver on a listener of the test's choosing (a
// receiver that comes up on an address given out earlier).
func NewReceiverOn(tb testing.TB, ln net.Listener, answers ...int) *Receiver {
	r := &Receiver{answers: answers}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, Request{At: time.Now(), Header: req.Header.Clone(), Body: body})
		code := http.StatusOK
		if len(r.answers) > 0 {
			code = r.answers[min(len(r.got), len(r.answers))-1]
		}
		r.mu.Unlock()
		w.WriteHeader(code)
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
	deadline := time.Now().Add(d)
	for {
		if got := r.Requests(); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the receiver got %d requests in %s; want %d", len(r.Requests()), d, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
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
