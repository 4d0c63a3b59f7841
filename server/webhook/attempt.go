package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/outcry/outcry/models"
)

// maxErrorLen bounds the error text kept per attempt.
const maxErrorLen = 500

// result is what one attempt came to.
type result struct {
	n       int
	at      time.Time
	first   time.Time
	code    int
	latency time.Duration
	errText string
	outcome models.AttemptOutcome
	next    time.Time // when outcome is retry
	giveUp  bool      // out of retries: the subscription may have to be disabled
}

// attempt POSTs one delivery and judges what came of it; ok is false if
// Close aborted it (the delivery is then released untouched for the next
// start).
func (s *Service) attempt(j job) (r result, ok bool) {
	at := s.now().UTC()
	r = result{n: j.d.Attempts + 1, at: at, first: at}
	if j.d.FirstAttemptAt != nil {
		r.first = j.d.FirstAttemptAt.UTC()
	}
	var ans answer
	var err error
	gone := j.hook == nil || j.ev == nil || (j.hook.Disabled && j.ev.Target == "")
	switch {
	case j.hook == nil || j.ev == nil:
		err = fmt.Errorf("the subscription or event no longer exists")
	case gone:
		err = fmt.Errorf("subscription disabled")
	default:
		start := time.Now()
		ans, err = s.post(j, at)
		r.code = ans.code
		r.latency = time.Since(start)
		if s.attemptCtx.Err() != nil {
			s.release(j)
			return r, false
		}
	}
	s.judge(&r, ans, err, gone)
	s.m.attempts.WithLabelValues(string(r.outcome)).Inc()
	if r.latency > 0 {
		s.m.latency.Observe(r.latency.Seconds())
	}
	level := s.log.Debug
	if r.outcome != models.OutcomeSucceeded {
		level = s.log.Warn
	}
	// Never the URL itself: its path and query can be the secret (Slack).
	scheme, host := destination(j.hook)
	level("webhook attempt", "delivery", j.d.ID, "webhook", j.d.WebhookID, "scheme", scheme, "host", host, "event", j.d.EventID,
		"attempt", r.n, "status", r.code, "latency_ms", r.latency.Milliseconds(), "outcome", r.outcome, "err", r.errText)
	return r, true
}

// answer is what a receiver said, with how its format reads it.
type answer struct {
	code   int
	header http.Header
	body   []byte   // the first 64 KiB
	f      format   // the subscription's format
	target *url.URL // where the request went
}

// maxAnswer bounds how much of an answer is read (and kept for the
// format's rules, e.g. Discord's retry_after).
const maxAnswer = 64 << 10

// post renders the event in the subscription's format, signs it and sends
// it; it reads a little of the answer so the connection can be reused.
func (s *Service) post(j job, at time.Time) (answer, error) {
	f, err := formatOf(j.hook)
	if err != nil {
		return answer{}, permanent{err}
	}
	ans := answer{f: f}
	body, err := f.body(j.ev, j.hook.URL, s.publicURL)
	if err != nil {
		return ans, permanent{err}
	}
	target := j.hook.URL
	if f.target != nil {
		if target, err = f.target(target); err != nil {
			return ans, permanent{err}
		}
	}
	ctx, cancel := context.WithTimeout(s.attemptCtx, AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return ans, permanent{err}
	}
	ans.target = req.URL
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.agent)
	// The timestamp is the wall clock's: receivers compare it with theirs.
	if err := sign(req.Header, j.ev.ID, time.Now(), body, j.hook.SigningSecrets(at)); err != nil {
		return ans, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return ans, err
	}
	ans.code, ans.header = resp.StatusCode, resp.Header
	ans.body, _ = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	_ = resp.Body.Close()
	return ans, nil
}

// permanent is an error no retry can mend (the body cannot be built for
// this subscription): the delivery fails at once.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// judge decides the outcome: the format's success answer (any 2xx for the
// standard and Slack formats) succeeds; another 2xx, a refused
// destination, other 4xx, a body that cannot be built or a gone
// subscription fail for good; the rest is retried on the schedule (or
// later, if the answer asks: Retry-After, Discord's retry_after) until
// RetryWindow has passed since the first attempt.
func (s *Service) judge(r *result, ans answer, err error, gone bool) {
	var perm permanent
	ok2xx := err == nil && r.code >= 200 && r.code < 300
	switch {
	case ok2xx && (ans.f.accepts == nil || ans.f.accepts(r.code, ans.target)):
		r.outcome = models.OutcomeSucceeded
		return
	case ok2xx:
		r.outcome, r.errText = models.OutcomeFailed, fmt.Sprintf("HTTP %d %s, but this format's receiver answers %s (not retried)",
			r.code, http.StatusText(r.code), ans.f.expect)
		return
	case err != nil && refused(err):
		r.outcome, r.errText = models.OutcomeFailed, "refused: "+errorText(err)
		return
	case err != nil && errors.As(err, &perm):
		r.outcome, r.errText = models.OutcomeFailed, errorText(err)+" (not retried)"
		return
	case gone:
		r.outcome, r.errText = models.OutcomeFailed, errorText(err)
		return
	case err != nil:
		r.errText = errorText(err)
	case !retryable(r.code):
		r.outcome, r.errText = models.OutcomeFailed, fmt.Sprintf("HTTP %d %s (not retried)", r.code, http.StatusText(r.code))
		return
	default:
		r.errText = fmt.Sprintf("HTTP %d %s", r.code, http.StatusText(r.code))
	}
	wait := ans.f.wait
	if wait == nil {
		wait = headerWait
	}
	r.next = r.at.Add(max(s.backoff(r.n), wait(r.code, ans.header, ans.body, r.at)))
	if r.next.Sub(r.first) > RetryWindow {
		r.outcome, r.giveUp = models.OutcomeFailed, true
		r.errText += fmt.Sprintf("; gave up after %d attempts over %s", r.n, r.at.Sub(r.first).Round(time.Minute))
		return
	}
	r.outcome = models.OutcomeRetry
}

// errorText is what an attempt's error says, without the URL: net/http
// wraps transport errors in *url.Error, whose text quotes the whole URL, and
// a webhook URL can itself be the secret (Slack's are). The text is stored
// in the delivery log and logged.
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// destination is the scheme and host a subscription posts to, for logs.
func destination(w *models.Webhook) (scheme, host string) {
	if w == nil {
		return "", ""
	}
	u, err := url.Parse(w.URL)
	if err != nil {
		return "", ""
	}
	return u.Scheme, u.Host
}
