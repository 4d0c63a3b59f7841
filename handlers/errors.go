package handlers

import (
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[models.Code]int{
	models.CodeMalformed:    http.StatusBadRequest,
	models.CodeUnauthorized: http.StatusUnauthorized,
	models.CodeNotFound:     http.StatusNotFound,
	models.CodeConflict:     http.StatusConflict,
	models.CodeTooLarge:     http.StatusRequestEntityTooLarge,
	models.CodeUnsupported:  http.StatusUnsupportedMediaType,
	models.CodeInvalid:      http.StatusUnprocessableEntity,
	models.CodeRateLimited:  http.StatusTooManyRequests,
	models.CodeUnavailable:  http.StatusServiceUnavailable,
	models.CodeInternal:     http.StatusInternalServerError,
}

// ErrorBody is the one JSON error shape: {"error":{"code":…,"message":…}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    models.Code `json:"code"`
	Message string      `json:"message"`
}

// respondError answers err in the one error shape. Internal errors are logged
// with the request id and shown only as "internal error".
func (h *Handler) respondError(c *gin.Context, err error) {
	code := models.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = models.CodeInternal, http.StatusInternalServerError
	}
	if status >= 500 {
		h.log.Error("request failed", "request_id", requestID(c), "route", c.FullPath(), "code", code, "err", err)
	}
	c.Error(err) //nolint:errcheck // recorded for the access log
	c.Abort()
	c.Data(status, "application/json; charset=utf-8", errorJSON(code, models.ErrorMessage(err)))
}

// errorJSON encodes ErrorBody without reflection: the error path is also
// the flood path (every 429), so it should cost little. The bytes are
// exactly what encoding/json makes of ErrorBody (errors_test.go checks).
func errorJSON(code models.Code, message string) []byte {
	b := make([]byte, 0, 32+len(code)+len(message))
	b = append(b, `{"error":{"code":`...)
	b = appendJSONString(b, string(code))
	b = append(b, `,"message":`...)
	b = appendJSONString(b, message)
	return append(b, "}}"...)
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// does by default (control characters, quote, backslash, <, >, &, U+2028,
// U+2029, and invalid UTF-8 as U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
