package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"

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

// appendRateLimited appends the error body of a 429 with msg.
func appendRateLimited(b []byte, msg string) []byte {
	b = append(b, `{"error":{"code":"`+string(models.CodeRateLimited)+`","message":`...)
	b = appendJSONString(b, msg)
	return append(b, "}}"...)
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

// respondRateLimited is respondError for a rate-limited report.
func respondRateLimited(c *gin.Context, err *models.Error) {
	c.Error(err) //nolint:errcheck // recorded for the access log
	var buf [160]byte
	writeJSON(c, http.StatusTooManyRequests, appendRateLimited(buf[:0], err.Message))
	c.Abort()
}
