// Package safehttp is the HTTP client Outcry uses for URLs an admin gave it
// (webhook receivers, official status pages): no proxy from the
// environment, no redirects unless asked, bounded timeouts, and unless
// private addresses are allowed a dialer that refuses loopback, private,
// link-local (cloud metadata), multicast and other special-purpose
// addresses at connect time — after DNS, so rebinding cannot sneak a
// private address past a check made when the URL was accepted.
//
// It is a leaf: it imports models only, so the adapters that use it
// (server/webhook, server/official) do not import each other.
package safehttp

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

// Options configure a client.
type Options struct {
	// AllowPrivate lets the client reach loopback and private addresses
	// (tests, private deployments).
	AllowPrivate bool
	// Timeout bounds one request, connection to last byte (default 10 s).
	Timeout time.Duration
	// FollowRedirects follows up to 5 redirects (each target is dialled
	// through the same guard); by default a 3xx is the answer.
	FollowRedirects bool
}

// NewClient builds a client with the guard in its dialer.
func NewClient(o Options) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		d.Control = guardian().Safe
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  o.Timeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	c := &http.Client{Transport: tr, Timeout: o.Timeout}
	if o.FollowRedirects {
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return errors.New("redirect to a scheme other than http or https")
			}
			return nil
		}
	} else {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

// guardian refuses loopback, private, link-local (the cloud metadata
// address included), multicast, unspecified and other special-purpose
// addresses, on any port.
func guardian() *ssrf.Guardian { return ssrf.New(ssrf.WithAnyPort()) }

// CheckDestination refuses, when a URL is accepted, one whose host is a
// literal address the dialer would refuse anyway (a clear 422 instead of a
// failure later). Host names are checked when connecting. what names the
// URL in the message ("url", "official_status_url").
func CheckDestination(raw, what string, allowPrivate bool) error {
	if allowPrivate {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return models.Errorf(models.CodeInvalid, "%s must be an absolute http:// or https:// URL", what)
	}
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return nil // a name, not an address
	}
	if err := guardian().SafeAddr(ip.Unmap()); err != nil {
		return models.Errorf(models.CodeInvalid, "%s host %s is a loopback, private, link-local or otherwise non-public address; only public addresses are allowed", what, ip)
	}
	return nil
}

// Refused reports whether err is the dialer refusing a destination.
func Refused(err error) bool {
	return errors.Is(err, ssrf.ErrProhibitedIP) || errors.Is(err, ssrf.ErrProhibitedNetwork) || errors.Is(err, ssrf.ErrProhibitedPort)
}
