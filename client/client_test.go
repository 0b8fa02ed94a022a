package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
)

// canned is one expected request and the answer the fake server gives to it.
type canned struct {
	method string
	path   string // escaped, with /api/v1
	query  string // the raw query, checked when not empty
	body   string // JSON the request body must equal, checked when not empty

	status int
	header map[string]string
	answer string
}

// fakeServer serves canned answers in order and records what went wrong with the requests.
type fakeServer struct {
	tb    testing.TB
	mu    sync.Mutex
	queue []canned
	auth  []string // Authorization headers seen
}

// newFake starts a server on 127.0.0.1 that expects exactly the given requests, in order.
func newFake(tb testing.TB, want ...canned) (*fakeServer, *client.Client) {
	tb.Helper()
	f := &fakeServer{tb: tb, queue: want}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(srv.Close)
	tb.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.queue) > 0 {
			tb.Errorf("%d expected requests never came, first %s %s", len(f.queue), f.queue[0].method, f.queue[0].path)
		}
	})
	return f, client.New(srv.URL+"/", client.WithHTTPClient(srv.Client()))
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	if len(f.queue) == 0 {
		f.mu.Unlock()
		f.tb.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.Error(w, "unexpected", http.StatusTeapot)
		return
	}
	c := f.queue[0]
	f.queue = f.queue[1:]
	f.mu.Unlock()

	if r.Method != c.method || r.URL.EscapedPath() != c.path {
		f.tb.Errorf("request %s %s, want %s %s", r.Method, r.URL.EscapedPath(), c.method, c.path)
	}
	if c.query != "" && r.URL.RawQuery != c.query {
		f.tb.Errorf("%s %s: query %q, want %q", c.method, c.path, r.URL.RawQuery, c.query)
	}
	data, _ := io.ReadAll(r.Body)
	if c.body != "" {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			f.tb.Errorf("%s %s: Content-Type %q, want application/json", c.method, c.path, ct)
		}
		var got, want any
		if err := json.Unmarshal(data, &got); err != nil {
			f.tb.Errorf("%s %s: request body %q is not JSON: %v", c.method, c.path, data, err)
		}
		if err := json.Unmarshal([]byte(c.body), &want); err != nil {
			f.tb.Fatalf("bad canned body %q: %v", c.body, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			f.tb.Errorf("%s %s: request body differs (-want +got):\n%s", c.method, c.path, diff)
		}
	}
	for k, v := range c.header {
		w.Header().Set(k, v)
	}
	if c.answer != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.WriteString(w, c.answer)
}

func (f *fakeServer) authHeaders() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auth...)
}

func TestWithTokenSendsBearerOnlyOnTheCopy(t *testing.T) {
	f, c := newFake(t,
		canned{method: "GET", path: "/api/v1/me", answer: `{"user":{"id":"u1"}}`},
		canned{method: "GET", path: "/api/v1/me", status: 401, answer: `{"error":{"code":"unauthenticated","message":"no token"}}`},
	)
	ana := c.WithToken("tok-1")
	if _, err := ana.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Me(t.Context()); plop.ErrorCode(err) != plop.EUnauthenticated {
		t.Fatalf("without a token: err = %v, want unauthenticated", err)
	}
	if diff := cmp.Diff([]string{"Bearer tok-1", ""}, f.authHeaders()); diff != "" {
		t.Fatalf("Authorization headers (-want +got):\n%s", diff)
	}
	if ana.Token() != "tok-1" || c.Token() != "" {
		t.Fatalf("tokens: copy %q, original %q", ana.Token(), c.Token())
	}
}

func TestErrorsAreDecoded(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name string
		ans  canned
		want client.Error
	}{
		{"JSON body", canned{status: 404, answer: `{"error":{"code":"not_found","message":"no such room"}}`},
			client.Error{Status: 404, Code: plop.ENotFound, Message: "no such room"}},
		{"rate limited with seconds", canned{status: 429, header: map[string]string{"Retry-After": "7"},
			answer: `{"error":{"code":"rate_limited","message":"slow down"}}`},
			client.Error{Status: 429, Code: plop.ERateLimited, Message: "slow down", RetryAfter: 7 * time.Second}},
		{"proxy page without JSON", canned{status: 502, header: map[string]string{"Content-Type": "text/html"},
			answer: "<html>bad gateway</html>\n<body>nginx</body>"},
			client.Error{Status: 502, Code: plop.EUnavailable, Message: "<html>bad gateway</html>"}},
		{"empty body", canned{status: 413},
			client.Error{Status: 413, Code: plop.ETooLarge, Message: "Request Entity Too Large"}},
		{"unknown status", canned{status: 418, answer: "{}"},
			client.Error{Status: 418, Code: plop.EInternal, Message: "{}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ans.method, tt.ans.path = "GET", "/api/v1/rooms/r1"
			_, c := newFake(t, tt.ans)
			_, err := c.WithToken("t").Room(t.Context(), "r1")
			var got *client.Error
			if !errors.As(err, &got) {
				t.Fatalf("err = %v (%T), want *client.Error", err, err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if plop.ErrorCode(err) != tt.want.Code || plop.ErrorMessage(err) != tt.want.Message {
				t.Fatalf("plop.ErrorCode/Message = %q/%q, want %q/%q", plop.ErrorCode(err), plop.ErrorMessage(err), tt.want.Code, tt.want.Message)
			}
		})
	}

	t.Run("rate limited with a date", func(t *testing.T) {
		_, c := newFake(t, canned{method: "POST", path: "/api/v1/auth/login", status: 429,
			header: map[string]string{"Retry-After": date},
			answer: `{"error":{"code":"rate_limited","message":"too many attempts"}}`})
		_, err := c.Login(t.Context(), "a@example.com", "pw")
		var e *client.Error
		if !errors.As(err, &e) {
			t.Fatalf("err = %v, want *client.Error", err)
		}
		if e.RetryAfter < 80*time.Second || e.RetryAfter > 90*time.Second {
			t.Fatalf("RetryAfter = %v, want about 90s", e.RetryAfter)
		}
		var pe *plop.Error
		if !errors.As(err, &pe) || pe.RetryAfter < 80 || pe.RetryAfter > 90 {
			t.Fatalf("as *plop.Error: %+v, want RetryAfter about 90 seconds", pe)
		}
	})
}

func TestMalformedAnswerIsAnError(t *testing.T) {
	_, c := newFake(t, canned{method: "GET", path: "/api/v1/me", answer: `{"user": [`})
	_, err := c.WithToken("t").Me(t.Context())
	if err == nil || !strings.Contains(err.Error(), "decode answer") {
		t.Fatalf("err = %v, want a decode error", err)
	}
}

func TestCancelledContextAbortsTheRequest(t *testing.T) {
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done() // answer only when the client gives up
	}))
	defer srv.Close()
	c := client.New(srv.URL).WithToken("t")
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := c.Me(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"user": map[string]string{"id": tok}})
	}))
	defer srv.Close()
	base := client.New(srv.URL)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			c := base.WithToken(string(rune('a' + i)))
			for range 20 {
				u, err := c.Me(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				if u.ID != c.Token() {
					t.Errorf("client with token %q got the answer for %q", c.Token(), u.ID)
					return
				}
			}
		})
	}
	wg.Wait()
}
