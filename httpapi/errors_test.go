package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plop-chat/plop"
)

func TestWriteErrorMapsEveryCode(t *testing.T) {
	for _, tc := range []struct {
		err        error
		status     int
		code, msg  string
		retryAfter string
		logged     string // the log message expected, "" for none
	}{
		{plop.Errorf(plop.EInvalid, "bad name"), 400, "invalid_argument", "bad name", "", ""},
		{plop.Errorf(plop.EUnauthenticated, "who?"), 401, "unauthenticated", "who?", "", ""},
		{plop.Errorf(plop.EForbidden, "no"), 403, "forbidden", "no", "", ""},
		{fmt.Errorf("load room: %w", plop.Errorf(plop.ENotFound, "no such room")), 404, "not_found", "no such room", "", ""},
		{plop.Errorf(plop.EConflict, "taken"), 409, "conflict", "taken", "", ""},
		{plop.Errorf(plop.ETooLarge, "big"), 413, "payload_too_large", "big", "", ""},
		{&plop.Error{Code: plop.ERateLimited, Message: "slow down", RetryAfter: 42}, 429, "rate_limited", "slow down", "42", ""},
		{&plop.Error{Code: plop.ERateLimited, Message: "slow down"}, 429, "rate_limited", "slow down", "1", ""},
		{fmt.Errorf("query: %w", plop.ErrUnavailable), 503, "unavailable", "service temporarily unavailable, try again", "", "backing service unavailable"},
		{plop.Errorf(plop.EUnavailable, "rooms are resting"), 503, "unavailable", "rooms are resting", "", "backing service unavailable"},
		{errors.New("pq: password authentication failed for db at 10.1.2.3"), 500, "internal", "internal error", "", "internal error"},
		{plop.Errorf(plop.EInternal, "disk full at /var/lib"), 500, "internal", "internal error", "", "internal error"},
		{plop.Errorf("some_new_code", "what"), 500, "internal", "internal error", "", "internal error"},
	} {
		t.Run(tc.code+"/"+tc.err.Error(), func(t *testing.T) {
			var logs bytes.Buffer
			api := &API{log: slog.New(slog.NewJSONHandler(&logs, nil))}
			r := httptest.NewRequest("GET", "/x", nil)
			r = r.WithContext(context.WithValue(r.Context(), requestKey, &requestInfo{id: "rid-9", pattern: "GET /x"}))
			w := httptest.NewRecorder()
			api.writeError(w, r, tc.err)

			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			var body errorBody
			dec := json.NewDecoder(w.Body)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&body); err != nil {
				t.Fatalf("body: %v", err)
			}
			if body.Error.Code != tc.code || body.Error.Message != tc.msg {
				t.Errorf("error %+v, want %s %q", body.Error, tc.code, tc.msg)
			}
			if got := w.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if tc.status == 401 && w.Header().Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("401 with WWW-Authenticate %q", w.Header().Get("WWW-Authenticate"))
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("error Cache-Control %q", w.Header().Get("Cache-Control"))
			}
			if tc.logged == "" {
				if logs.Len() != 0 {
					t.Errorf("logged %s", logs.String())
				}
				return
			}
			var rec map[string]any
			if err := json.Unmarshal(logs.Bytes(), &rec); err != nil {
				t.Fatalf("log %q: %v", logs.String(), err)
			}
			if rec["msg"] != tc.logged || rec["request_id"] != "rid-9" || rec["err"] != tc.err.Error() {
				t.Errorf("log %v", rec)
			}
		})
	}
}

func TestWriteErrorForACancelledRequest(t *testing.T) {
	var logs bytes.Buffer
	api := &API{log: slog.New(slog.NewJSONHandler(&logs, nil))} // info and above
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("GET", "/x", nil).WithContext(ctx)
	w := httptest.NewRecorder()
	api.writeError(w, r, fmt.Errorf("query friends: %w", context.Canceled))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", w.Code)
	}
	if logs.Len() != 0 {
		t.Errorf("a client going away was logged as a fault: %s", logs.String())
	}
	// The same error while the request is alive is a fault of ours.
	w = httptest.NewRecorder()
	api.writeError(w, httptest.NewRequest("GET", "/x", nil), fmt.Errorf("query friends: %w", context.Canceled))
	if w.Code != http.StatusInternalServerError || logs.Len() == 0 {
		t.Errorf("status %d, logged %q", w.Code, logs.String())
	}
}

func TestDecodeJSON(t *testing.T) {
	type in struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	for _, tc := range []struct {
		body, ctype string
		limit       int64
		code        string
		msg         string
	}{
		{`{"name":"a","n":1}`, "application/json", 100, "", ""},
		{`  {"name":"a"}  ` + "\n", "application/json; charset=utf-8", 100, "", ""},
		{`{"name":"a"`, "application/json", 100, plop.EInvalid, "ends too early"},
		{`{"name":"a",}`, "application/json", 100, plop.EInvalid, "malformed JSON at byte"},
		{`{"name":"a","x":1}`, "application/json", 100, plop.EInvalid, `unknown field "x"`},
		{`{"n":"one"}`, "application/json", 100, plop.EInvalid, `field "n" must be a number, not string`},
		{`{"n":1.5}`, "application/json", 100, plop.EInvalid, `field "n" must be a number`},
		{`"name"`, "application/json", 100, plop.EInvalid, "must be a JSON object"},
		{`{"name":"a"}x`, "application/json", 100, plop.EInvalid, "after the JSON value"},
		{`{"name":"a"}{}`, "application/json", 100, plop.EInvalid, "after the JSON value"},
		{`{"name":"a"}`, "text/plain", 100, plop.EInvalid, "Content-Type"},
		{``, "application/json", 100, plop.EInvalid, "body is required"},
		{`{"name":"` + strings.Repeat("a", 200) + `"}`, "application/json", 100, plop.ETooLarge, "larger than 100 bytes"},
		{`{"name":"a"}` + strings.Repeat(" ", 200), "application/json", 100, plop.ETooLarge, "larger than 100 bytes"},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", tc.ctype)
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, tc.limit)
		var v in
		err := decodeJSON(r, &v)
		if plop.ErrorCode(err) != tc.code || !strings.Contains(plop.ErrorMessage(err), tc.msg) {
			t.Errorf("body %.40q: error %v, want %s containing %q", tc.body, err, tc.code, tc.msg)
		}
	}
}
