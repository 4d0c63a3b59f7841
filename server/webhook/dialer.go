package webhook

import (
	"net/http"
	"time"

	"github.com/outcry/outcry/server/safehttp"
)

// AttemptTimeout bounds one delivery attempt, connection to last byte.
const AttemptTimeout = 10 * time.Second

// newClient is the delivery client (server/safehttp): no proxy from the
// environment, no redirects (a 3xx is the answer), and unless allowPrivate
// a dialer that checks every address it connects to.
func newClient(allowPrivate bool) *http.Client {
	return safehttp.NewClient(safehttp.Options{AllowPrivate: allowPrivate, Timeout: AttemptTimeout})
}

// checkDestination refuses, at subscription time, a URL whose host is a
// literal address the dialer would refuse anyway.
func checkDestination(raw string, allowPrivate bool) error {
	return safehttp.CheckDestination(raw, "url", allowPrivate)
}

// refused reports whether err is the dialer refusing a destination.
func refused(err error) bool { return safehttp.Refused(err) }
