package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(tb testing.TB, h http.Handler, path string, header map[string]string) *http.Response {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = "chat.example.com"
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(tb testing.TB, resp *http.Response) string {
	tb.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestIndexForAppRoutes(t *testing.T) {
	h := Handler()
	for _, path := range []string{"/", "/index.html", "/t/0192f0c1-aaaa", "/people", "/verify"} {
		resp := get(t, h, path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", path, cc)
		}
		if b := body(t, resp); !strings.Contains(b, `<script type="module" src="/js/app.js">`) {
			t.Errorf("GET %s: not the app's index.html:\n%s", path, b)
		}
	}
}

func TestAssetsHaveTypesAndRevalidate(t *testing.T) {
	h := Handler()
	for path, want := range map[string]string{
		"/js/app.js":                       "text/javascript; charset=utf-8",
		"/style.css":                       "text/css; charset=utf-8",
		"/favicon.svg":                     "image/svg+xml",
		"/vendor/stompjs/stomp.umd.min.js": "text/javascript; charset=utf-8",
		"/vendor/htm/standalone.module.js": "text/javascript; charset=utf-8",
		"/vendor/htm/LICENSE":              "text/plain; charset=utf-8",
		"/vendor/stompjs/LICENSE":          "text/plain; charset=utf-8",
	} {
		resp := get(t, h, path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != want {
			t.Errorf("GET %s: Content-Type %q, want %q", path, ct, want)
		}
		etag := resp.Header.Get("ETag")
		if !regexp.MustCompile(`^"[A-Za-z0-9_-]{16}"$`).MatchString(etag) {
			t.Errorf("GET %s: ETag %q", path, etag)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "must-revalidate") {
			t.Errorf("GET %s: Cache-Control %q", path, cc)
		}
		again := get(t, h, path, map[string]string{"If-None-Match": etag})
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: status %d, want 304", path, again.StatusCode)
		}
		if b := body(t, again); b != "" {
			t.Errorf("GET %s: 304 with a body of %d bytes", path, len(b))
		}
	}
}

func TestMissingFilesAre404(t *testing.T) {
	h := Handler()
	for _, path := range []string{"/js/nope.js", "/favicon.ico", "/vendor/stompjs/stomp.umd.min.js.map", "/api/v1/nothing", "/ws"} {
		if resp := get(t, h, path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestOnlyReads(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x"))
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /: status %d, want 405", rec.Code)
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	resp := get(t, Handler(), "/", nil)
	csp := resp.Header.Get("Content-Security-Policy")
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	for name, want := range map[string]string{
		"default-src":     "'none'",
		"script-src":      "'self'",
		"style-src":       "'self'",
		"connect-src":     "'self' ws://chat.example.com wss://chat.example.com",
		"frame-ancestors": "'none'",
		"base-uri":        "'none'",
	} {
		if got := directives[name]; got != want {
			t.Errorf("CSP %s = %q, want %q (whole policy: %s)", name, got, want, csp)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows unsafe sources: %s", csp)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
}

// The service worker is served from the root (so that its scope is the whole origin) as
// JavaScript, never from a stale cache, and the policy lets the origin run it.
func TestServiceWorker(t *testing.T) {
	resp := get(t, Handler(), "/sw.js", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sw.js: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("GET /sw.js: Content-Type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("GET /sw.js: Cache-Control %q, want no-cache", cc)
	}
	if b := body(t, resp); !strings.Contains(b, "addEventListener('push'") || !strings.Contains(b, "addEventListener('notificationclick'") {
		t.Errorf("GET /sw.js: not the service worker:\n%s", b)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "worker-src 'self'") {
		t.Errorf("CSP has no worker-src 'self': %s", csp)
	}
}

// Every file the app loads must be embedded: index.html's own references and every relative
// import of every module.
func TestEveryReferencedFileIsEmbedded(t *testing.T) {
	refs := regexp.MustCompile(`(?:src|href)="(/[^"]+)"`)
	imports := regexp.MustCompile(`(?m)(?:^import|^export)[^'"]*from '(\.[^']+)'`)
	for _, m := range refs.FindAllStringSubmatch(string(site["/index.html"].body), -1) {
		if site[m[1]] == nil {
			t.Errorf("index.html refers to %s, which is not embedded", m[1])
		}
	}
	for name, f := range site {
		if !strings.HasSuffix(name, ".js") || strings.HasPrefix(name, "/vendor/") {
			continue
		}
		for _, m := range imports.FindAllStringSubmatch(string(f.body), -1) {
			target := resolve(name, m[1])
			if site[target] == nil {
				t.Errorf("%s imports %s (%s), which is not embedded", name, m[1], target)
			}
		}
	}
}

func resolve(from, rel string) string {
	dir := from[:strings.LastIndex(from, "/")]
	for strings.HasPrefix(rel, "../") {
		dir = dir[:strings.LastIndex(dir, "/")]
		rel = rel[3:]
	}
	return dir + "/" + strings.TrimPrefix(rel, "./")
}
