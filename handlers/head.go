package handlers

import (
	"context"
	"net/http"
)

// HeadAsGet answers HEAD as the same GET would be answered, without the
// body (RFC 9110 §9.3.2): the status, ETag, Content-Type and Content-Length
// (uptime monitors and `curl -I` ask this way). Gin routes HEAD only where a
// HEAD route is registered, so h is given a shallow copy of the request
// saying GET; net/http still sees the HEAD request it read and writes no
// body. Paths that do not answer GET answer HEAD with their GET answer too
// (404, or 405 for a path that only takes POST). The copy's context says it
// was a HEAD, so the access log and the latency metric still say HEAD (and
// 0 bytes: none were sent).
func HeadAsGet(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.WithContext(context.WithValue(r.Context(), headKey{}, true))
			r.Method = http.MethodGet
		}
		h.ServeHTTP(w, r)
	})
}

// headKey marks, in its context, a HEAD request HeadAsGet passes on as GET.
type headKey struct{}

// wasHead says whether r is a HEAD request HeadAsGet passed on as GET.
func wasHead(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Context().Value(headKey{}) != nil
}
