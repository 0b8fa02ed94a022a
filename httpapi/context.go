package httpapi

import (
	"context"
	"net/http"

	"github.com/plop-chat/plop/app"
)

// ctxKey is the type of this package's context keys, so that no other package can collide.
type ctxKey int

const (
	identityKey ctxKey = iota
	requestKey
)

// IdentityFrom returns the authenticated caller of the request whose context is ctx.
// Handlers behind the authentication middleware always have one.
func IdentityFrom(ctx context.Context) (app.Identity, bool) {
	id, ok := ctx.Value(identityKey).(app.Identity)
	return id, ok
}

// RequestIDFrom returns the request id (the X-Request-ID header) of the request whose
// context is ctx, or "" outside a request.
func RequestIDFrom(ctx context.Context) string {
	if info, ok := ctx.Value(requestKey).(*requestInfo); ok {
		return info.id
	}
	return ""
}

// requestInfo is what the outer middleware learns about a request while inner layers handle
// it: the request id, the matched route pattern and the caller. It is owned by the request's
// goroutine.
type requestInfo struct {
	id      string
	pattern string
	userID  string
}

func infoOf(r *http.Request) *requestInfo {
	if info, ok := r.Context().Value(requestKey).(*requestInfo); ok {
		return info
	}
	return &requestInfo{}
}

func requestIDOf(r *http.Request) string { return infoOf(r).id }

func routeOf(r *http.Request) string { return infoOf(r).pattern }

// me returns the caller's user id. Only authenticated routes call it; a route that forgot
// authentication fails loudly instead of acting for nobody.
func me(r *http.Request) string {
	id, ok := IdentityFrom(r.Context())
	if !ok || id.UserID == "" {
		panic("httpapi: authenticated handler reached without an identity")
	}
	return id.UserID
}
