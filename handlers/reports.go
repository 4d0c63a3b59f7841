package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
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
	if err := readReport(c, &in); err != nil {
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
	setRateLimitHeaders(c, d, 0)
	bp := bodyBufs.Get().(*[]byte)
	*bp = appendReportAccepted((*bp)[:0], out)
	writeJSON(c, http.StatusAccepted, *bp)
	bodyBufs.Put(bp)
}

func (h *Handler) reject(c *gin.Context, err error) {
	if h.Metrics != nil {
		h.Metrics.Rejected.WithLabelValues(string(models.ErrorCode(err))).Inc()
	}
	h.respondError(c, err)
}

func (h *Handler) rateLimited(c *gin.Context, d models.Admittance) {
	retry := ceilSeconds(d.RetryAfter)
	vals := setRateLimitHeaders(c, d, 1)
	vals[0] = strconv.Itoa(retry)
	c.Writer.Header()["Retry-After"] = vals[0:1:1]
	if h.Metrics != nil {
		h.Metrics.rateLimited.Inc()
	}
	respondRateLimited(c, retry, d.ByNetwork)
}

// setRateLimitHeaders sets the RateLimit-* headers of d, their values in
// one allocation with extra more slots, which it returns for the caller's
// own headers (strconv.Itoa of a number under 100 allocates nothing).
func setRateLimitHeaders(c *gin.Context, d models.Admittance, extra int) []string {
	if d.Limit <= 0 {
		return make([]string, extra)
	}
	vals := make([]string, 3+extra)
	v := vals[extra:]
	v[0] = strconv.Itoa(d.Limit)
	v[1] = strconv.Itoa(max(d.Remaining, 0))
	v[2] = strconv.Itoa(ceilSeconds(d.ResetAfter))
	h := c.Writer.Header()
	h["RateLimit-Limit"] = v[0:1:1]
	h["RateLimit-Remaining"] = v[1:2:2]
	h["RateLimit-Reset"] = v[2:3:3]
	return vals[:extra]
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

// reportBufs holds the buffers report bodies are read into: a report's
// strings are copied out of it, so it goes back at once.
var reportBufs = sync.Pool{New: func() any { return new([MaxReportBody + 1]byte) }}

// readReport reads and decodes a report body (at most MaxReportBody bytes)
// as readJSON does, with the same refusals. A body of known length is read
// into a pooled buffer, and the usual body (one object of plain strings)
// is decoded without reflection (decodeReportFast); anything else takes
// readJSON's path.
func readReport(c *gin.Context, in *models.ReportInput) error {
	n := c.Request.ContentLength
	if n < 0 || n > MaxReportBody {
		return readJSON(c, MaxReportBody, in)
	}
	buf := reportBufs.Get().(*[MaxReportBody + 1]byte)
	defer reportBufs.Put(buf)
	// The server's body reader stops at Content-Length; reading one byte
	// more than that finds its end (or a body reader that lies about it).
	got, err := io.ReadFull(c.Request.Body, buf[:n+1])
	switch {
	case (err == io.ErrUnexpectedEOF || err == io.EOF) && int64(got) == n:
	case err != nil: // a read error, or a body cut short of its Content-Length
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return models.Wrap(models.CodeMalformed, err, "could not read the body")
	default:
		// Longer than its Content-Length: only a hand-made request (not
		// net/http's server) has such a body. Read it the general way.
		rest := c.Request.Body
		c.Request.Body = readCloser{io.MultiReader(bytes.NewReader(bytes.Clone(buf[:got])), rest), rest}
		c.Request.ContentLength = -1
		return readJSON(c, MaxReportBody, in)
	}
	if decodeReportFast(buf[:got], in) {
		return nil
	}
	*in = models.ReportInput{}
	return decodeJSON(buf[:got], in)
}

type readCloser struct {
	io.Reader
	io.Closer
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
	return decodeJSON(body, v)
}

// decodeJSON decodes body, which must be one JSON object, into v.
func decodeJSON(body []byte, v any) error {
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
