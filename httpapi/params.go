package httpapi

import (
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
)

// clientAddr is the address rate limits count against: the peer's IP, or with TrustProxy the
// last X-Forwarded-For entry: the address our own proxy saw, which a client cannot forge
// (entries before it are whatever the client sent).
func (api *API) clientAddr(r *http.Request) string {
	if api.opt.TrustProxy {
		if vals := r.Header.Values("X-Forwarded-For"); len(vals) > 0 {
			xff := vals[len(vals)-1]
			if ip := strings.TrimSpace(xff[strings.LastIndexByte(xff, ',')+1:]); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// queryInt reads an optional non-negative integer query parameter; absent is 0.
func queryInt(r *http.Request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, plop.Errorf(plop.EInvalid, "%s must be a non-negative integer", name)
	}
	return n, nil
}

// queryLimit reads the optional limit parameter: 1 or more, capped at plop.MaxPageSize;
// absent is 0, which the services read as the default page size.
func queryLimit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, plop.Errorf(plop.EInvalid, "limit must be a positive integer")
	}
	return min(n, plop.MaxPageSize), nil
}

// queryPage reads the cursor and limit parameters.
func queryPage(r *http.Request) (app.Page, error) {
	limit, err := queryLimit(r)
	if err != nil {
		return app.Page{}, err
	}
	return app.Page{Cursor: r.URL.Query().Get("cursor"), Limit: limit}, nil
}

// pathSeq reads the {seq} path parameter: a message number, 1 or more.
func pathSeq(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || n < 1 {
		return 0, plop.Errorf(plop.EInvalid, "seq must be a positive integer")
	}
	return n, nil
}

// nonNil turns a nil list into an empty one, so that lists are [] in JSON, never null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
