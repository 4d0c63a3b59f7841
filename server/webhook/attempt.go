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
	var hdr http.Header
	var err error
	gone := j.hook == nil || j.ev == nil || (j.hook.Disabled && j.ev.Target == "")
	switch {
	case j.hook == nil || j.ev == nil:
		err = fmt.Errorf("the subscription or event no longer exists")
	case gone:
		err = fmt.Errorf("subscription disabled")
	default:
		start := time.Now()
		r.code, hdr, err = s.post(j, at)
		r.latency = time.Since(start)
		if s.attemptCtx.Err() != nil {
			s.release(j)
			return r, false
		}
	}
	s.judge(&r, hdr, err, gone)
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

// post sends the signed request and drains a little of the answer so the
// connection can be reused.
func (s *Service) post(j job, at time.Time) (int, http.Header, error) {
	body := j.ev.Payload
	if j.hook.Format == models.FormatSlack {
		var err error
		if body, err = slackBody(j.ev); err != nil {
			return 0, nil, err
		}
	}
	ctx, cancel := context.WithTimeout(s.attemptCtx, AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.hook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.agent)
	// The timestamp is the wall clock's: receivers compare it with theirs.
	if err := sign(req.Header, j.ev.ID, time.Now(), body, j.hook.SigningSecrets(at)); err != nil {
		return 0, nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header, nil
}

// judge decides the outcome: any 2xx succeeds; a refused destination,
// other 4xx or a gone subscription fail for good; the rest is retried on
// the schedule (or later, if Retry-After asks) until RetryWindow has passed
// since the first attempt.
func (s *Service) judge(r *result, hdr http.Header, err error, gone bool) {
	switch {
	case err == nil && r.code >= 200 && r.code < 300:
		r.outcome = models.OutcomeSucceeded
		return
	case err != nil && refused(err):
		r.outcome, r.errText = models.OutcomeFailed, "refused: "+errorText(err)
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
	wait := max(s.backoff(r.n), retryAfter(hdr, r.at))
	r.next = r.at.Add(wait)
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
