package httpapi

import (
	"net/http"
	"strings"
)

// CORS answers, for browsers on other origins. Credentials are bearer tokens, never cookies,
// so Access-Control-Allow-Credentials is not sent.
const (
	corsMethods = "GET, POST, PUT, PATCH, DELETE"
	corsHeaders = "Authorization, Content-Type, X-Request-ID"
	corsExpose  = "X-Request-ID, Retry-After, WWW-Authenticate, ETag"
	corsMaxAge  = "600"
)

// cors allows the configured origins; a nil *cors sends no CORS headers at all.
type cors struct {
	any     bool
	origins map[string]bool
}

func newCORS(origins []string) *cors {
	if len(origins) == 0 {
		return nil
	}
	c := &cors{origins: make(map[string]bool, len(origins))}
	for _, o := range origins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "*" {
			c.any = true
		}
		c.origins[strings.ToLower(o)] = true
	}
	return c
}

func (c *cors) allowed(origin string) bool {
	return c.any || c.origins[strings.ToLower(origin)]
}

// wrap answers preflight requests itself and adds the CORS headers to every answer to an
// allowed origin. A preflight from an origin that is not allowed gets 204 without them, which
// the browser takes as a refusal.
func (c *cors) wrap(next http.Handler) http.Handler {
	if c == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		ok := c.allowed(origin)
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if ok {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Methods", corsMethods)
				h.Set("Access-Control-Allow-Headers", corsHeaders)
				h.Set("Access-Control-Max-Age", corsMaxAge)
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", corsExpose)
		}
		next.ServeHTTP(w, r)
	})
}
