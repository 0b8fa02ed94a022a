package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
)

// handlerFunc is a route's handler: it writes a successful answer itself and returns any
// error for writeError to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route access and body kinds.
const (
	authed       = iota // needs a valid access token
	public              // anyone
	upload              // needs a token; the body is an upload bounded by MaxUploadBytes
	attachUpload        // needs a token; the body is an attachment bounded by the app's limits
)

// route is one line of the route table.
type route struct {
	pattern string // a net/http pattern: "METHOD /path/{wildcard}"
	access  int
	handle  handlerFunc
}

// routes is the one route table of the REST API. docs/openapi.yaml documents exactly these
// (a test checks it).
func (api *API) routes() []route {
	return []route{
		// Operations.
		{"GET /healthz", public, api.healthz},
		{"GET /readyz", public, api.readyz},
		{"GET /metrics", public, api.serveMetrics},
		{"GET /api/v1/openapi.yaml", public, serveOpenAPI},

		// Accounts.
		{"POST /api/v1/auth/signup", public, api.signup},
		{"POST /api/v1/auth/verify", public, api.verify},
		{"POST /api/v1/auth/verify/resend", public, api.resendCode},
		{"POST /api/v1/auth/login", public, api.login},
		{"POST /api/v1/auth/refresh", public, api.refresh},
		{"POST /api/v1/auth/logout", public, api.logout},

		// People.
		{"GET /api/v1/me", authed, api.getMe},
		{"PATCH /api/v1/me", authed, api.updateMe},
		{"PUT /api/v1/me/avatar", upload, api.setAvatar},
		{"GET /api/v1/avatars/{user}/{file}", public, api.avatar},
		{"GET /api/v1/users", authed, api.searchUsers},
		{"GET /api/v1/users/{id}", authed, api.getUser},

		// Friends and blocks.
		{"GET /api/v1/friends", authed, api.friends},
		{"DELETE /api/v1/friends/{user_id}", authed, api.unfriend},
		{"POST /api/v1/friends/requests", authed, api.sendFriendRequest},
		{"GET /api/v1/friends/requests", authed, api.friendRequests},
		{"POST /api/v1/friends/requests/{id}/accept", authed, api.acceptFriendRequest},
		{"POST /api/v1/friends/requests/{id}/decline", authed, api.declineFriendRequest},
		{"PUT /api/v1/blocks/{user_id}", authed, api.block},
		{"DELETE /api/v1/blocks/{user_id}", authed, api.unblock},

		// Presence and push devices.
		{"GET /api/v1/presence", authed, api.presence},
		{"POST /api/v1/devices", authed, api.registerDevice},
		{"GET /api/v1/devices", authed, api.devices},
		{"DELETE /api/v1/devices/{id}", authed, api.deleteDevice},
		{"GET /api/v1/push/vapid-key", authed, api.vapidKey},

		// Rooms.
		{"POST /api/v1/rooms", authed, api.createRoom},
		{"GET /api/v1/rooms", authed, api.rooms},
		{"GET /api/v1/rooms/{id}", authed, api.room},
		{"PATCH /api/v1/rooms/{id}", authed, api.updateRoom},
		{"POST /api/v1/rooms/{id}/members", authed, api.addMembers},
		{"DELETE /api/v1/rooms/{id}/members/{user_id}", authed, api.removeMember},
		{"POST /api/v1/rooms/{id}/read", authed, api.markRead},

		// Messages.
		{"GET /api/v1/rooms/{id}/messages", authed, api.messages},
		{"POST /api/v1/rooms/{id}/messages", authed, api.sendMessage},
		{"PATCH /api/v1/rooms/{id}/messages/{seq}", authed, api.editMessage},
		{"DELETE /api/v1/rooms/{id}/messages/{seq}", authed, api.deleteMessage},
		{"PUT /api/v1/rooms/{id}/messages/{seq}/reactions/{emoji}", authed, api.react},
		{"DELETE /api/v1/rooms/{id}/messages/{seq}/reactions/{emoji}", authed, api.unreact},

		// Attachments.
		{"POST /api/v1/rooms/{id}/attachments", attachUpload, api.uploadAttachment},
		{"GET /api/v1/rooms/{id}/attachments/{aid}", authed, api.attachment},
		{"GET /api/v1/rooms/{id}/attachments/{aid}/thumbnail", authed, api.attachmentThumbnail},
	}
}

// apiPrefix is answered with JSON errors for every path no route matches.
const apiPrefix = "/api/"

// register puts the route table, the JSON 404/405 for unknown API paths and the extra
// handlers on the mux. Conflicting patterns panic here, at start-up.
func (api *API) register() {
	for _, rt := range api.routes() {
		api.mux.Handle(rt.pattern, api.wrap(rt))
	}
	api.mux.Handle(apiPrefix, withPattern(apiPrefix, http.HandlerFunc(api.noRoute)))
	for pattern, h := range api.opt.Extra {
		api.mux.Handle(pattern, withPattern(pattern, h))
	}
}

// wrap applies a route's body limit and authentication, then runs its handler and answers
// its error.
func (api *API) wrap(rt route) http.Handler {
	limit := api.opt.MaxBodyBytes
	if rt.access == upload {
		limit = api.opt.MaxUploadBytes + multipartSlack
	}
	if rt.access == attachUpload && api.app != nil {
		limit = api.app.MaxAttachmentBytes() + multipartSlack
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoOf(r)
		info.pattern = rt.pattern
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		if rt.access != public {
			// Answers for one user: never kept in a shared or disk cache.
			w.Header().Set("Cache-Control", "no-store")
			id, err := api.authenticate(w, r)
			if err != nil {
				api.writeError(w, r, err)
				return
			}
			info.userID = id.UserID
			r = r.WithContext(context.WithValue(r.Context(), identityKey, id))
		}
		if err := rt.handle(w, r); err != nil {
			api.writeError(w, r, err)
		}
	})
}

// withPattern records the pattern of an extra handler for the access log and metrics.
func withPattern(pattern string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		infoOf(r).pattern = pattern
		h.ServeHTTP(w, r)
	})
}

// noRoute answers a path under /api/ that no route matches: 405 with an Allow header when
// the path exists with other methods, else 404.
func (api *API) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, p := api.mux.Handler(probe); p != "" && p != apiPrefix {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeErrorBody(w, http.StatusNotFound, plop.ENotFound, "no such API path: "+r.URL.Path)
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeErrorBody(w, http.StatusMethodNotAllowed, plop.EInvalid,
		"method "+r.Method+" is not allowed here; use "+strings.Join(allow, ", "))
}

// authenticate checks the request's bearer token. A refused token is answered with
// WWW-Authenticate: Bearer error="invalid_token" (RFC 6750), a missing one with plain Bearer.
func (api *API) authenticate(w http.ResponseWriter, r *http.Request) (app.Identity, error) {
	token, ok := bearerToken(r)
	if !ok {
		return app.Identity{}, plop.Errorf(plop.EUnauthenticated, "an access token is required (Authorization: Bearer <token>)")
	}
	id, err := api.app.Authenticate(r.Context(), token)
	if err != nil && plop.ErrorCode(err) == plop.EUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	return id, err
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
