package webhook

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"code.dny.dev/ssrf"

	"github.com/outcry/outcry/models"
)

// AttemptTimeout bounds one delivery attempt, connection to last byte.
const AttemptTimeout = 10 * time.Second

// newGuardian refuses loopback, private, link-local (the cloud metadata
// address included), multicast, unspecified and other special-purpose
// addresses, on any port.
func newGuardian() *ssrf.Guardian { return ssrf.New(ssrf.WithAnyPort()) }

// newClient is the delivery client: no proxy from the environment, no
// redirects (a 3xx is the answer), and unless allowPrivate a dialer that
// checks every address it connects to — after DNS, so rebinding cannot
// sneak a private address past a check made at subscription time.
func newClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = newGuardian().Safe
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  AttemptTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       AttemptTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkDestination refuses, at subscription time, a URL whose host is a
// literal address the dialer would refuse anyway (a clear 422 instead of a
// failing delivery later). Host names are checked when connecting.
func checkDestination(raw string, allowPrivate bool) error {
	if allowPrivate {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return models.Errorf(models.CodeInvalid, "url must be an absolute http:// or https:// URL")
	}
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return nil // a name, not an address
	}
	if err := newGuardian().SafeAddr(ip.Unmap()); err != nil {
		return models.Errorf(models.CodeInvalid, "url host %s is a loopback, private, link-local or otherwise non-public address; webhooks go to public addresses only", ip)
	}
	return nil
}

// refused reports whether err is the dialer refusing a destination.
func refused(err error) bool {
	return errors.Is(err, ssrf.ErrProhibitedIP) || errors.Is(err, ssrf.ErrProhibitedNetwork) || errors.Is(err, ssrf.ErrProhibitedPort)
}
