package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plop-chat/plop/httpapi"
)

// These tests run the middleware and the operations endpoints without services: the API is
// built on a nil *app.App and only routes that never reach it are called.

// logBuffer collects JSON log lines; it is safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// records returns the log records with message msg.
func (l *logBuffer) records(tb testing.TB, msg string) []map[string]any {
	tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			tb.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func newBareAPI(tb testing.TB, o httpapi.Options) (http.Handler, *logBuffer) {
	tb.Helper()
	logs := &logBuffer{}
	o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return httpapi.New(nil, o).Handler(), logs
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestPanicIsAnInternalError(t *testing.T) {
	h, logs := newBareAPI(t, httpapi.Options{Extra: map[string]http.Handler{
		"GET /boom": http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret detail") }),
	}})
	r := httptest.NewRequest("GET", "/boom", nil)
	r.Header.Set("X-Request-ID", "req-1")
	w := serve(h, r)
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", w.Code)
	}
	if strings.Contains(w.Body.String(), "secret") {
		t.Errorf("the panic leaked: %s", w.Body)
	}
	if got := strings.TrimSpace(w.Body.String()); got != `{"error":{"code":"internal","message":"internal error"}}` {
		t.Errorf("body %s", got)
	}
	recs := logs.records(t, "panic in handler")
	if len(recs) != 1 || recs[0]["request_id"] != "req-1" || recs[0]["panic"] != "secret detail" ||
		!strings.Contains(recs[0]["stack"].(string), "unit_test.go") {
		t.Errorf("panic log %v", recs)
	}
	access := logs.records(t, "http request")
	if len(access) != 1 || access[0]["status"] != float64(500) || access[0]["route"] != "GET /boom" {
		t.Errorf("access log %v", access)
	}
}

func TestAccessLog(t *testing.T) {
	h, logs := newBareAPI(t, httpapi.Options{})
	r := httptest.NewRequest("GET", "/healthz", nil)
	r.Header.Set("X-Request-ID", "req-7")
	serve(h, r)
	recs := logs.records(t, "http request")
	if len(recs) != 1 {
		t.Fatalf("%d access log lines", len(recs))
	}
	rec := recs[0]
	for k, want := range map[string]any{
		"method": "GET", "route": "GET /healthz", "path": "/healthz", "status": float64(200),
		"bytes": float64(3), "request_id": "req-7", "user_id": "", "client": "192.0.2.1",
	} {
		if rec[k] != want {
			t.Errorf("access log %s = %v, want %v", k, rec[k], want)
		}
	}
	if _, ok := rec["duration"]; !ok {
		t.Error("access log has no duration")
	}
}

func TestReadiness(t *testing.T) {
	var deadline time.Time
	fail := errors.New("database on fire at 10.0.0.7")
	ready := func(ctx context.Context) error {
		deadline, _ = ctx.Deadline()
		return fail
	}
	h, logs := newBareAPI(t, httpapi.Options{Ready: ready})
	start := time.Now()
	w := serve(h, httptest.NewRequest("GET", "/readyz", nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", w.Code)
	}
	if strings.Contains(w.Body.String(), "10.0.0.7") {
		t.Errorf("readiness leaked its cause: %s", w.Body)
	}
	var e struct{ Error struct{ Code string } }
	if json.Unmarshal(w.Body.Bytes(), &e); e.Error.Code != "unavailable" {
		t.Errorf("body %s", w.Body)
	}
	if deadline.IsZero() || deadline.Sub(start) > 2*time.Second+100*time.Millisecond {
		t.Errorf("Ready ran with deadline %v after start, want at most 2s", deadline.Sub(start))
	}
	if recs := logs.records(t, "not ready"); len(recs) != 1 || !strings.Contains(recs[0]["err"].(string), "10.0.0.7") {
		t.Errorf("cause not logged: %v", recs)
	}
	// Healthz does not depend on readiness.
	if w := serve(h, httptest.NewRequest("GET", "/healthz", nil)); w.Code != http.StatusOK {
		t.Errorf("/healthz status %d while not ready", w.Code)
	}
	fail = nil
	if w := serve(h, httptest.NewRequest("GET", "/readyz", nil)); w.Code != http.StatusOK {
		t.Errorf("/readyz status %d once ready", w.Code)
	}
}

func TestDatabaseMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, _ := newBareAPI(t, httpapi.Options{Registry: reg, DBStats: func() sql.DBStats {
		return sql.DBStats{MaxOpenConnections: 8, OpenConnections: 3, InUse: 2, Idle: 1, WaitCount: 5, WaitDuration: 1500 * time.Millisecond}
	}})
	body := serve(h, httptest.NewRequest("GET", "/metrics", nil)).Body.String()
	for _, want := range []string{
		"plop_db_max_open_connections 8", "plop_db_open_connections 3", "plop_db_in_use_connections 2",
		"plop_db_idle_connections 1", "plop_db_wait_count_total 5", "plop_db_wait_duration_seconds_total 1.5",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// A second API on the same registry (a restart in tests) shares the collectors.
	h2, _ := newBareAPI(t, httpapi.Options{Registry: reg})
	serve(h2, httptest.NewRequest("GET", "/healthz", nil))
	body = serve(h, httptest.NewRequest("GET", "/metrics", nil)).Body.String()
	if !strings.Contains(body, `plop_http_requests_total{method="GET",route="GET /metrics",status="200"} 1`) ||
		!strings.Contains(body, `plop_http_requests_total{method="GET",route="GET /healthz",status="200"} 1`) {
		t.Errorf("request counters across two APIs:\n%s", grepLines(body, "plop_http_requests_total"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestExtraHandlersAndHijack(t *testing.T) {
	h, logs := newBareAPI(t, httpapi.Options{Extra: map[string]http.Handler{
		"/": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "web client")
		}),
		"GET /ws": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nhello")
			brw.Flush()
		}),
	}})
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/index.html")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "web client" || resp.Header.Get("X-Request-ID") == "" {
		t.Errorf("extra handler answered %q (request id %q)", b, resp.Header.Get("X-Request-ID"))
	}
	// API paths stay the API's, with JSON errors, even with a catch-all "/".
	resp, err = http.Get(srv.URL + "/api/v1/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/api/v1/nope: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// The connection can be taken over through the middleware, as a WebSocket upgrade does.
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade status %d", resp.StatusCode)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "hello" {
		t.Errorf("after the upgrade: %q", rest)
	}
	// The access log line is written once the handler returns.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var found bool
		for _, rec := range logs.records(t, "http request") {
			if rec["route"] == "GET /ws" && rec["status"] == float64(101) {
				found = true
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no access log line with status 101 for the upgrade")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestClientAddress(t *testing.T) {
	for _, tc := range []struct {
		trust bool
		xff   string
		want  string
	}{
		{false, "", "192.0.2.1"},
		{false, "203.0.113.9", "192.0.2.1"},
		{true, "203.0.113.9", "203.0.113.9"},
		// A client-sent entry comes first; the proxy appends the address it saw.
		{true, "198.51.100.7, 203.0.113.9", "203.0.113.9"},
		{true, "", "192.0.2.1"},
	} {
		h, logs := newBareAPI(t, httpapi.Options{TrustProxy: tc.trust})
		r := httptest.NewRequest("GET", "/healthz", nil)
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		serve(h, r)
		recs := logs.records(t, "http request")
		if len(recs) != 1 || recs[0]["client"] != tc.want {
			t.Errorf("trust %v, X-Forwarded-For %q: client %v, want %s", tc.trust, tc.xff, recs, tc.want)
		}
	}
}

func TestCORSAnyOrigin(t *testing.T) {
	h, _ := newBareAPI(t, httpapi.Options{AllowedOrigins: []string{"*"}})
	r := httptest.NewRequest("OPTIONS", "/api/v1/me", nil)
	r.Header.Set("Origin", "https://anywhere.example")
	r.Header.Set("Access-Control-Request-Method", "GET")
	w := serve(h, r)
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "https://anywhere.example" {
		t.Errorf("preflight: %d, Allow-Origin %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
}
