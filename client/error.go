package client

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plop-chat/plop"
)

// Error is an answer other than 2xx: the HTTP status and the decoded error body
// {"error": {"code", "message"}}, with the Retry-After delay of a 429 or 503.
type Error struct {
	Status     int
	Code       string // one of the plop.E* codes
	Message    string
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("plop server: %d %s: %s", e.Status, e.Code, e.Message)
}

// Unwrap returns the error as a *plop.Error, so that plop.ErrorCode and plop.ErrorMessage
// read the server's code and message.
func (e *Error) Unwrap() error {
	secs := int((e.RetryAfter + time.Second - 1) / time.Second)
	return &plop.Error{Code: e.Code, Message: e.Message, RetryAfter: secs}
}

// decodeError turns a non-2xx answer into an *Error. A body that is not the documented JSON
// (a proxy's HTML page, say) keeps its status, a code inferred from it and its first line.
func decodeError(resp *http.Response) *Error {
	e := &Error{
		Status:     resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
		return e
	}
	e.Code = codeOf(resp.StatusCode)
	msg, _, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
	if msg == "" || len(msg) > 200 {
		msg = http.StatusText(resp.StatusCode)
	}
	e.Message = msg
	return e
}

// codeOf infers the error code of a status, for answers without a JSON error body.
func codeOf(status int) string {
	switch status {
	case http.StatusBadRequest:
		return plop.EInvalid
	case http.StatusUnauthorized:
		return plop.EUnauthenticated
	case http.StatusForbidden:
		return plop.EForbidden
	case http.StatusNotFound:
		return plop.ENotFound
	case http.StatusConflict:
		return plop.EConflict
	case http.StatusRequestEntityTooLarge:
		return plop.ETooLarge
	case http.StatusTooManyRequests:
		return plop.ERateLimited
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return plop.EUnavailable
	}
	return plop.EInternal
}

// parseRetryAfter reads a Retry-After header, delay-seconds or an HTTP date; 0 when absent or
// malformed.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(max(secs, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
