// Package web serves Plop's web client: plain ES modules and vendored libraries embedded in
// the binary, with no build step. The app speaks only the public REST API under /api/v1 and
// STOMP over the WebSocket at /ws, on the origin that serves it.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// file is one embedded file, read once at start-up.
type file struct {
	name        string
	body        []byte
	etag        string
	contentType string
}

// site is every embedded file by its URL path ("/index.html", "/js/app.js", ...).
var site = mustLoad()

func mustLoad() map[string]*file {
	files, err := load(static, "static")
	if err != nil {
		panic(fmt.Sprintf("web: embedded files: %v", err)) // the embed is fixed at build time
	}
	if files["/index.html"] == nil {
		panic("web: embedded files lack index.html")
	}
	return files
}

// load reads every file under root of fsys into memory with its content type and a strong
// ETag made from its contents.
func load(fsys fs.FS, root string) (map[string]*file, error) {
	files := map[string]*file{}
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		sum := sha256.Sum256(body)
		urlPath := strings.TrimPrefix(p, root)
		files[urlPath] = &file{
			name:        path.Base(p),
			body:        body,
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
			contentType: contentType(p),
		}
		return nil
	})
	return files, err
}

// contentType names the type of an embedded file by its extension, with a fixed table for
// the kinds the app ships so that the answer does not depend on the host's MIME database.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".json":
		return "application/json"
	case ".webmanifest":
		return "application/manifest+json"
	case ".md", ".txt", "":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Handler serves the web client. A path naming an embedded file gets that file; any other
// path without a file extension gets index.html, so that the app's own routes (/t/ROOM,
// /people, ...) load the app; other paths are 404.
//
// index.html and the service worker /sw.js are sent with Cache-Control: no-cache, so a new
// release is picked up on the next load. The other files keep their names across releases, so browsers may cache them but must
// revalidate: each carries a strong ETag and an unchanged file costs a 304.
//
// Every answer carries a Content-Security-Policy that allows scripts, styles and connections
// only from the app's own origin (its REST API and its WebSocket), images from the origin and
// from data: and blob: URLs (photos are fetched with the access token and shown through blob:
// URLs), a service worker from the origin, and nothing else.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	setSecurityHeaders(w, r)
	p := r.URL.Path
	if p == "/" {
		p = "/index.html"
	}
	f := site[p]
	if f == nil {
		if path.Ext(p) != "" || strings.HasPrefix(p, "/api/") || p == "/ws" {
			http.NotFound(w, r)
			return
		}
		f = site["/index.html"] // a route of the app itself
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	switch {
	case p == "/sw.js":
		// The service worker. Served from the root, its scope may be the whole origin without
		// a Service-Worker-Allowed header. Browsers check it for updates themselves; no-cache
		// keeps a cache in between from serving an old one.
		h.Set("Cache-Control", "no-cache")
	case f.name == "index.html":
		h.Set("Cache-Control", "no-cache")
	default:
		h.Set("Cache-Control", "public, max-age=0, must-revalidate")
	}
	// ServeContent answers If-None-Match with 304, HEAD and Range requests.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

// setSecurityHeaders sets the Content-Security-Policy and the other headers that keep the app
// from being framed, sniffed or leaking its URLs.
func setSecurityHeaders(w http.ResponseWriter, r *http.Request) {
	connect := "'self'"
	// CSP Level 3 lets 'self' match the same host's ws: and wss: URLs; older browsers need
	// them spelled out. The Host header has been validated by net/http.
	if host := r.Host; host != "" && !strings.ContainsAny(host, " ;,'\"") {
		connect += " ws://" + host + " wss://" + host
	}
	h := w.Header()
	h.Set("Content-Security-Policy", strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data: blob:",
		"font-src 'self'",
		"connect-src " + connect,
		"manifest-src 'self'",
		"worker-src 'self'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; "))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}
