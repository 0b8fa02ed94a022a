package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/plop-chat/plop"
)

// errorBody is the JSON of every error answer: {"error": {"code": ..., "message": ...}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// statusOf maps an error code to its HTTP status.
func statusOf(code string) int {
	switch code {
	case plop.EInvalid:
		return http.StatusBadRequest
	case plop.EUnauthenticated:
		return http.StatusUnauthorized
	case plop.EForbidden:
		return http.StatusForbidden
	case plop.ENotFound:
		return http.StatusNotFound
	case plop.EConflict:
		return http.StatusConflict
	case plop.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case plop.ERateLimited:
		return http.StatusTooManyRequests
	case plop.EUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError answers err: the one place where an error becomes a status and a body. Codes
// the clients do not know, and errors without a code, are answered as 500 internal with a
// generic message; the real error is logged with the request id. Unavailable errors are
// logged too, since their cause (a database, Redis) is not shown either.
func (api *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The client went away (or the server is stopping): not a fault of ours, and nobody
		// reads the answer.
		api.log.LogAttrs(r.Context(), slog.LevelDebug, "request cancelled",
			slog.String("request_id", requestIDOf(r)),
			slog.String("route", routeOf(r)),
			slog.String("err", err.Error()))
		writeErrorBody(w, http.StatusServiceUnavailable, plop.EUnavailable, "the request was cancelled")
		return
	}
	code := plop.ErrorCode(err)
	status := statusOf(code)
	msg := plop.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		code, msg = plop.EInternal, "internal error"
	}
	h := w.Header()
	switch status {
	case http.StatusInternalServerError:
		api.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", requestIDOf(r)),
			slog.String("method", r.Method),
			slog.String("route", routeOf(r)),
			slog.String("err", err.Error()))
	case http.StatusServiceUnavailable:
		api.log.LogAttrs(r.Context(), slog.LevelWarn, "backing service unavailable",
			slog.String("request_id", requestIDOf(r)),
			slog.String("route", routeOf(r)),
			slog.String("err", err.Error()))
	case http.StatusUnauthorized:
		if h.Get("WWW-Authenticate") == "" {
			h.Set("WWW-Authenticate", "Bearer")
		}
	case http.StatusTooManyRequests:
		secs := 1
		var pe *plop.Error
		if errors.As(err, &pe) && pe.RetryAfter > 0 {
			secs = pe.RetryAfter
		}
		h.Set("Retry-After", strconv.Itoa(secs))
	}
	writeErrorBody(w, status, code, msg)
}

// writeErrorBody writes an error answer with an explicit status and code.
func writeErrorBody(w http.ResponseWriter, status int, code, msg string) {
	h := w.Header()
	h.Del("Content-Length")
	h.Del("ETag")
	h.Del("Last-Modified")
	h.Set("Cache-Control", "no-store")
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: msg}})
}
