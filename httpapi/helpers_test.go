package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop/internal/servertest"
)

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// httpClient gives up on a hung answer instead of hanging the whole test binary. The limit is
// generous: decoding and scaling a large photo under the race detector on a busy 2-core
// machine has taken more than 30 s.
var httpClient = &http.Client{Timeout: 2 * time.Minute}

// reqOpt shapes one test request.
type reqOpt func(*http.Request)

func withToken(token string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

func withHeader(k, v string) reqOpt {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

// send makes one request to srv with body (nil: none; []byte and string are sent as they are,
// anything else as JSON with Content-Type application/json) and reads the answer.
func send(tb testing.TB, srv *servertest.Server, method, path string, body any, opts ...reqOpt) answer {
	tb.Helper()
	var rd io.Reader
	isJSON := false
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd, isJSON = bytes.NewReader(data), true
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

// must fails the test unless the answer has status want, then decodes it into out (if not
// nil).
func (a answer) must(tb testing.TB, want int, out any) answer {
	tb.Helper()
	if a.status != want {
		tb.Fatalf("status %d, want %d; body %s", a.status, want, a.body)
	}
	if out != nil {
		if err := json.Unmarshal(a.body, out); err != nil {
			tb.Fatalf("decode %s: %v", a.body, err)
		}
	}
	return a
}

// wantError fails the test unless the answer is the error body with status and code, and
// returns its message.
func (a answer) wantError(tb testing.TB, status int, code string) string {
	tb.Helper()
	if a.status != status {
		tb.Fatalf("status %d, want %d; body %s", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		tb.Fatalf("error Content-Type %q, want application/json", ct)
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		tb.Fatalf("error body %s: %v", a.body, err)
	}
	if e.Error.Code != code {
		tb.Fatalf("error code %q, want %q (message %q)", e.Error.Code, code, e.Error.Message)
	}
	if e.Error.Message == "" {
		tb.Fatalf("error %q has no message", code)
	}
	return e.Error.Message
}

// object decodes an answer into a generic object, to check the exact shape.
func (a answer) object(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		tb.Fatalf("decode %s: %v", a.body, err)
	}
	return m
}

// keys returns the sorted keys of m joined by commas.
func keys(m map[string]any) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ",")
}
