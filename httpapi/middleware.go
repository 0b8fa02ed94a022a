package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/plop-chat/plop"
)

// middleware wraps next, outermost first: request id, access log and metrics, panic
// recovery, CORS. Authentication and body limits are applied per route (see wrap).
func (api *API) middleware(next http.Handler) http.Handler {
	h := api.cors.wrap(next)
	h = api.recoverPanics(h)
	h = api.observe(h)
	return withRequestID(h)
}

// withRequestID gives every request an id: the client's X-Request-ID when it is sane, else a
// new one. The id is echoed in the response and kept in the context (RequestIDFrom).
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		info := &requestInfo{id: id}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestKey, info)))
	})
}

// validRequestID accepts up to 128 characters of letters, digits and "-_.:".
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// observe writes one access log line and the request metrics for every request.
func (api *API) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		api.metrics.inflight.Inc()
		defer api.metrics.inflight.Dec()
		next.ServeHTTP(rec, r)
		elapsed := time.Since(start)
		info := infoOf(r)
		status := rec.statusCode()
		api.metrics.observe(info.pattern, r.Method, status, elapsed)
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelWarn
		case status < 400 && quietRoutes[info.pattern]:
			level = slog.LevelDebug
		}
		api.log.LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method),
			slog.String("route", info.pattern),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", elapsed),
			slog.String("request_id", info.id),
			slog.String("user_id", info.userID),
			slog.String("client", api.clientAddr(r)))
	})
}

// quietRoutes are polled by probes and scrapers; their successful answers are logged at
// debug level only.
var quietRoutes = map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /metrics": true}

// recoverPanics turns a panic in a handler into a 500 internal answer (when nothing was
// written yet) and logs it with its stack. http.ErrAbortHandler keeps its meaning.
func (api *API) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			api.log.LogAttrs(r.Context(), slog.LevelError, "panic in handler",
				slog.String("request_id", requestIDOf(r)),
				slog.String("method", r.Method),
				slog.String("route", routeOf(r)),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())))
			if rec, ok := w.(*recorder); ok && rec.wroteHeader {
				panic(http.ErrAbortHandler) // the answer is half written: cut the connection
			}
			writeErrorBody(w, http.StatusInternalServerError, plop.EInternal, "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}
