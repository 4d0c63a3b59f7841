package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// MaxReportBody bounds a report request's body.
const MaxReportBody = 4 << 10

// ReportAccepted is the 202 answer to a report.
type ReportAccepted struct {
	Accepted bool   `json:"accepted"`
	Counted  bool   `json:"counted"`
	ID       uint64 `json:"id"`
	Service  string `json:"service"`
	Problem  string `json:"problem"`
	Region   string `json:"region"`
	// Reports15m is how many people reported problems with the service in the
	// last 15 minutes, as of the latest status snapshot.
	Reports15m int `json:"reports_last_15m"`
}

// postReport ingests one problem report. Cheap refusals come first (unknown
// service, wrong content type, a cached rate-limit denial) so a flood costs
// no body parsing and no Redis round trip; an accepted report is answered
// 202 only after it is committed.
func (h *Handler) postReport(c *gin.Context) {
	svc, ok := h.Catalog.Lookup(c.Param("slug"))
	if !ok {
		h.reject(c, models.Errorf(models.CodeNotFound, "no service %q", c.Param("slug")))
		return
	}
	if !isJSON(c.GetHeader("Content-Type")) {
		h.reject(c, models.Errorf(models.CodeUnsupported, "send the report as Content-Type: application/json"))
		return
	}
	now := h.Now()
	addr := clientAddr(c)
	reporter, network := h.Identifier.Identify(addr, now)
	if d, denied := h.Limiter.Denied(reporter, network, now); denied {
		h.rateLimited(c, d)
		return
	}
	var in models.ReportInput
	if err := readJSON(c, MaxReportBody, &in); err != nil {
		h.reject(c, err)
		return
	}
	out, d, err := h.storeReport(c.Request.Context(), svc, in, addr, reporter, network, now)
	switch {
	case err == nil:
	case models.ErrorCode(err) == models.CodeRateLimited:
		h.rateLimited(c, d)
		return
	default:
		h.reject(c, err)
		return
	}
	setRateLimitHeaders(c, d)
	var buf [256]byte
	writeJSON(c, http.StatusAccepted, appendReportAccepted(buf[:0], out))
}

func (h *Handler) reject(c *gin.Context, err error) {
	if h.Metrics != nil {
		h.Metrics.Rejected.WithLabelValues(string(models.ErrorCode(err))).Inc()
	}
	h.respondError(c, err)
}

func (h *Handler) rateLimited(c *gin.Context, d models.Admittance) {
	setRateLimitHeaders(c, d)
	c.Writer.Header()["Retry-After"] = []string{strconv.Itoa(ceilSeconds(d.RetryAfter))}
	if h.Metrics != nil {
		h.Metrics.rateLimited.Inc()
	}
	respondRateLimited(c, rateLimitError(d))
}

func setRateLimitHeaders(c *gin.Context, d models.Admittance) {
	if d.Limit <= 0 {
		return
	}
	h := c.Writer.Header()
	h["RateLimit-Limit"] = []string{strconv.Itoa(d.Limit)}
	h["RateLimit-Remaining"] = []string{strconv.Itoa(max(d.Remaining, 0))}
	h["RateLimit-Reset"] = []string{strconv.Itoa(ceilSeconds(d.ResetAfter))}
}

func ceilSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// clientAddr is the client's address as Gin's trusted-proxy rules see it.
func clientAddr(c *gin.Context) netip.Addr {
	a, err := netip.ParseAddr(c.ClientIP())
	if err != nil {
		return netip.IPv4Unspecified()
	}
	return a.Unmap()
}

func isJSON(ct string) bool {
	if ct == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// readJSON decodes a body of at most limit bytes into v: 413 past the limit,
// 400 for anything that is not one JSON object.
func readJSON(c *gin.Context, limit int64, v any) error {
	if c.Request.ContentLength > limit {
		return models.Errorf(models.CodeTooLarge, "the body is %d bytes; at most %d", c.Request.ContentLength, limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return models.Errorf(models.CodeTooLarge, "the body is over %d bytes", limit)
		}
		return models.Wrap(models.CodeMalformed, err, "could not read the body")
	}
	if len(body) == 0 {
		return models.Errorf(models.CodeMalformed, "the body is empty; send a JSON object")
	}
	if body[0] != '{' {
		// Skip leading whitespace before judging.
		i := 0
		for i < len(body) && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t') {
			i++
		}
		if i == len(body) || body[i] != '{' {
			return models.Errorf(models.CodeMalformed, "the body must be a JSON object")
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return models.Errorf(models.CodeMalformed, "field %q must be a %s", te.Field, te.Type)
		}
		return models.Errorf(models.CodeMalformed, "malformed JSON: %v", err)
	}
	return nil
}
