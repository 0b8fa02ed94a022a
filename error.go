package plop

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in httpapi and to an ERROR frame in realtime.
const (
	EInvalid         = "invalid_argument"  // 400
	EUnauthenticated = "unauthenticated"   // 401
	EForbidden       = "forbidden"         // 403
	ENotFound        = "not_found"         // 404
	EConflict        = "conflict"          // 409
	ETooLarge        = "payload_too_large" // 413
	ERateLimited     = "rate_limited"      // 429
	EInternal        = "internal"          // 500
	EUnavailable     = "unavailable"       // 503
)

// Error is the one error type of the domain: a code a client can act on and a message a
// person can read. Any other error reaching a transport is internal and is logged, not shown.
type Error struct {
	Code    string
	Message string
	// RetryAfter is set on rate_limited errors: how long until the caller may try again.
	RetryAfter int // seconds
}

func (e *Error) Error() string { return fmt.Sprintf("plop: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: the code of the first *Error in its chain, EUnavailable
// for errors that wrap ErrUnavailable, EInternal for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, ErrUnavailable) {
		return EUnavailable
	}
	return EInternal
}

// ErrorMessage returns the human-readable message of err; internal errors get a generic
// message so that no internals leak to clients.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	if errors.Is(err, ErrUnavailable) {
		return "service temporarily unavailable, try again"
	}
	return "internal error"
}

// ErrUnavailable is wrapped by adapters when a backing service (database, Redis, SMTP) cannot
// be reached; transports answer it with 503 unavailable.
var ErrUnavailable = errors.New("backing service unavailable")
