package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/outcry/outcry/models"
)

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[models.Code]int{
	models.CodeMalformed:    http.StatusBadRequest,
	models.CodeUnauthorized: http.StatusUnauthorized,
	models.CodeNotFound:     http.StatusNotFound,
	models.CodeMethod:       http.StatusMethodNotAllowed,
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
	c.AbortWithStatusJSON(status, ErrorBody{Error: ErrorDetail{Code: code, Message: models.ErrorMessage(err)}})
}
