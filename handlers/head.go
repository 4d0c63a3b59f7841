package handlers

import "net/http"

// HeadAsGet answers HEAD as the same GET would be answered, without the
// body (RFC 9110 §9.3.2): the status, ETag, Content-Type and Content-Length
// (uptime monitors and `curl -I` ask this way). Gin routes HEAD only where a
// HEAD route is registered, so h is given a shallow copy of the request
// saying GET; net/http still sees the HEAD request it read and writes no
// body. Paths that do not answer GET answer HEAD with their GET answer too
// (404, or 405 for a path that only takes POST).
func HeadAsGet(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			get := *r
			get.Method = http.MethodGet
			r = &get
		}
		h.ServeHTTP(w, r)
	})
}
