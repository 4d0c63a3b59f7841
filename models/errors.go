// Package models is Outcry's domain: services, reports, incidents and the
// small interfaces the application is wired from. It imports nothing of ours.
package models

import (
	"errors"
	"fmt"
)

// Code classifies an error for every caller: HTTP handlers map it to a status
// in one table, adapters translate driver errors into it at their boundary.
type Code string

const (
	CodeMalformed    Code = "malformed"              // 400: the body is not the JSON we expect
	CodeUnauthorized Code = "unauthorized"           // 401: missing or wrong admin token
	CodeNotFound     Code = "not_found"              // 404
	CodeMethod       Code = "method_not_allowed"     // 405
	CodeConflict     Code = "conflict"               // 409: the thing exists already
	CodeTooLarge     Code = "too_large"              // 413
	CodeUnsupported  Code = "unsupported_media_type" // 415
	CodeInvalid      Code = "invalid"                // 422: well-formed but not acceptable
	CodeRateLimited  Code = "rate_limited"           // 429
	CodeUnavailable  Code = "unavailable"            // 503: try again later
	CodeInternal     Code = "internal"               // 500: logged, never shown in detail
)

// Error is a domain error: a code, a message safe to show to clients, and an
// optional cause that is only logged.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a domain error with a formatted client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a cause to a domain error; the cause is logged, not shown.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode is the code of err: its own if it is (or wraps) an *Error,
// CodeInternal for any other non-nil error, "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage is the client-safe message of err; internal errors say only
// "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != CodeInternal {
		return e.Message
	}
	return "internal error"
}
