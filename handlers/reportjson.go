package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// The report path answers every request, a flood too, so its two bodies
// (202 and 429) are appended by hand instead of through encoding/json's
// reflection: the same documents (TestReportJSONMatchesEncodingJSON), a
// fraction of the CPU and allocations.

var jsonContentType = []string{"application/json; charset=utf-8"}

// writeJSON answers status with body, as c.JSON would.
func writeJSON(c *gin.Context, status int, body []byte) {
	c.Writer.Header()["Content-Type"] = jsonContentType
	c.Writer.WriteHeader(status)
	_, _ = c.Writer.Write(body)
}

// appendReportAccepted appends out as encoding/json would marshal it.
func appendReportAccepted(b []byte, out ReportAccepted) []byte {
	b = append(b, `{"accepted":`...)
	b = strconv.AppendBool(b, out.Accepted)
	b = append(b, `,"counted":`...)
	b = strconv.AppendBool(b, out.Counted)
	b = append(b, `,"id":`...)
	b = strconv.AppendUint(b, out.ID, 10)
	b = append(b, `,"service":`...)
	b = appendJSONString(b, out.Service)
	b = append(b, `,"problem":`...)
	b = appendJSONString(b, out.Problem)
	b = append(b, `,"region":`...)
	b = appendJSONString(b, out.Region)
	b = append(b, `,"reports_last_15m":`...)
	b = strconv.AppendInt(b, int64(out.Reports15m), 10)
	return append(b, '}')
}

// appendRateLimitedRetry appends the 429 body of rateLimitMessage(retry,
// byNetwork) without making the message.
func appendRateLimitedRetry(b []byte, retry int, byNetwork bool) []byte {
	b = append(b, `{"error":{"code":"`+string(models.CodeRateLimited)+`","message":"`...)
	b = append(b, rateLimitPrefix[b2i(byNetwork)]...)
	b = strconv.AppendInt(b, int64(retry), 10)
	return append(b, rateLimitSuffix+`"}}`...)
}

// appendJSONString appends s as a JSON string: plain printable ASCII as is
// (slugs, problem names, regions, our messages), anything else through
// encoding/json so escaping stays exactly its own.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// rateLimitedBodies caches the 429 bodies of the usual waits (seconds), of
// the reporter's limit and of the network's, made on first use: a flood
// answers the same few bodies again and again.
var rateLimitedBodies [2][3601]atomic.Pointer[[]byte]

// respondRateLimited is respondError for a rate-limited report that may
// retry in retry seconds, without an error value: a flood answers one per
// request.
func respondRateLimited(c *gin.Context, retry int, byNetwork bool) {
	writeJSON(c, http.StatusTooManyRequests, rateLimitedBody(retry, byNetwork))
	c.Abort()
}

func rateLimitedBody(retry int, byNetwork bool) []byte {
	cache := &rateLimitedBodies[b2i(byNetwork)]
	if retry < 0 || retry >= len(cache) {
		return appendRateLimitedRetry(nil, retry, byNetwork)
	}
	if p := cache[retry].Load(); p != nil {
		return *p
	}
	body := appendRateLimitedRetry(nil, retry, byNetwork)
	cache[retry].Store(&body)
	return body
}

// bodyBufs are the buffers 202 bodies are appended in (a buffer passed to
// the ResponseWriter escapes, so a stack array would be an allocation).
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// decodeReportFast decodes the usual report body, one JSON object whose
// members are "problem", "region" and "note" with string values that need
// no unescaping, without encoding/json's reflection: the three strings share
// one copy of the body. It returns false for anything else (other or
// differently cased keys, escapes, other types, invalid UTF-8, trailing
// data), and the caller then decodes with encoding/json, so what is accepted
// and how a refusal reads stay encoding/json's. FuzzDecodeReportFast checks
// that both give the same result whenever this one answers.
func decodeReportFast(body []byte, in *models.ReportInput) bool {
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return skipSpace(body, i+1) == len(body)
	}
	var s string // the body as a string, made once a value is found
	for {
		k0, k1, ok := plainJSONString(body, i)
		if !ok {
			return false
		}
		i = skipSpace(body, k1+1)
		if i == len(body) || body[i] != ':' {
			return false
		}
		v0, v1, ok := plainJSONString(body, skipSpace(body, i+1))
		if !ok {
			return false
		}
		if s == "" {
			s = string(body)
		}
		switch string(body[k0:k1]) {
		case "problem":
			in.Problem = s[v0:v1]
		case "region":
			in.Region = s[v0:v1]
		case "note":
			in.Note = s[v0:v1]
		default:
			return false
		}
		i = skipSpace(body, v1+1)
		if i == len(body) {
			return false
		}
		switch body[i] {
		case '}':
			return skipSpace(body, i+1) == len(body)
		case ',':
			i = skipSpace(body, i+1)
		default:
			return false
		}
	}
}

// skipSpace skips JSON whitespace from i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// plainJSONString finds the JSON string starting at b[i] ('"') when it has
// no escapes and no control characters and is valid UTF-8: its contents
// are b[start:end] and b[end] is its closing quote.
func plainJSONString(b []byte, i int) (start, end int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, 0, false
	}
	ascii := true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			if !ascii && !utf8.Valid(b[i+1:j]) {
				return 0, 0, false
			}
			return i + 1, j, true
		case c == '\\' || c < 0x20:
			return 0, 0, false
		case c >= 0x80:
			ascii = false
		}
	}
	return 0, 0, false
}
