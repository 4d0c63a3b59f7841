package webhook

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/outcry/outcry/models"
)

// format is how one kind of receiver is spoken to: the body built from an
// event, where it is POSTed, which answer means it arrived, and how long a
// refusal asks us to wait. Every format goes through the same outbox,
// retry schedule, delivery log, signing and SSRF-safe client.
type format struct {
	// body renders the event for the receiver at hookURL (the
	// subscription's URL); publicURL is where people reach Outcry (a ping
	// links to it).
	body func(ev *models.Event, hookURL, publicURL string) ([]byte, error)
	// target is the URL to POST to, from the subscription's; nil = as is.
	target func(raw string) (string, error)
	// accepts says whether a 2xx answer is the receiver's own success
	// answer; nil = any 2xx. Another 2xx is a permanent failure: the URL
	// is not this kind of receiver, or it answered with an error page.
	accepts func(code int, target *url.URL) bool
	// expect describes the success answer, for the delivery log.
	expect string
	// wait is how long a failed answer asks us to wait before the next
	// attempt (0 = no opinion); nil = the Retry-After header.
	wait func(code int, h http.Header, body []byte, now time.Time) time.Duration
}

// formats maps a subscription's Format to how it is delivered.
var formats = map[string]format{
	models.FormatStandard: {body: func(ev *models.Event, _, _ string) ([]byte, error) { return ev.Payload, nil }},
	models.FormatSlack:    {body: func(ev *models.Event, _, _ string) ([]byte, error) { return slackBody(ev) }},
	models.FormatDiscord: {body: discordBody, accepts: discordAccepts, wait: discordWait,
		expect: "204 No Content (200 OK with ?wait=true)"},
	models.FormatTeams: {body: teamsBody, accepts: statusIn(http.StatusAccepted, http.StatusOK),
		expect: "202 Accepted"},
	models.FormatNtfy: {body: ntfyBody, target: ntfyTarget, accepts: statusIn(http.StatusOK),
		expect: "200 OK"},
}

// formatOf is a subscription's format; an unknown one (written by a newer
// version) fails its deliveries rather than sending something unexpected.
func formatOf(w *models.Webhook) (format, error) {
	f, ok := formats[w.Format]
	if !ok {
		return format{}, fmt.Errorf("unknown format %q", w.Format)
	}
	return f, nil
}

// statusIn accepts exactly the given codes.
func statusIn(codes ...int) func(int, *url.URL) bool {
	return func(code int, _ *url.URL) bool {
		for _, c := range codes {
			if code == c {
				return true
			}
		}
		return false
	}
}

// headerWait is the default wait: the Retry-After header.
func headerWait(_ int, h http.Header, _ []byte, now time.Time) time.Duration {
	return retryAfter(h, now)
}
