package httpapi_test

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/plop-chat/plop/internal/servertest"
	"github.com/plop-chat/plop/server"
)

func TestJSONBodies(t *testing.T) {
	srv := servertest.Start(t)
	ana := srv.SignupVerified(t, "Ana")
	tok := withToken(ana.AccessToken)
	asJSON := withHeader("Content-Type", "application/json")

	for _, tc := range []struct {
		name   string
		body   string
		opts   []reqOpt
		status int
		code   string
		msg    string // part of the message
	}{
		{"malformed", `{"name": "Mallory"`, []reqOpt{asJSON}, 400, "invalid_argument", "malformed JSON"},
		{"not JSON", `name=Mallory`, []reqOpt{asJSON}, 400, "invalid_argument", "malformed JSON"},
		{"unknown field", `{"name": "Mallory", "admin": true}`, []reqOpt{asJSON}, 400, "invalid_argument", `unknown field "admin"`},
		{"wrong type", `{"name": 42}`, []reqOpt{asJSON}, 400, "invalid_argument", `"name"`},
		{"array", `["Mallory"]`, []reqOpt{asJSON}, 400, "invalid_argument", "JSON object"},
		{"trailing data", `{"name": "Mallory"} {"name": "Eve"}`, []reqOpt{asJSON}, 400, "invalid_argument", "after the JSON value"},
		{"no content type", `{"name": "Mallory"}`, nil, 400, "invalid_argument", "Content-Type"},
		{"form content type", `{"name": "Mallory"}`, []reqOpt{withHeader("Content-Type", "application/x-www-form-urlencoded")}, 400, "invalid_argument", "Content-Type"},
		{"empty", ``, []reqOpt{asJSON}, 400, "invalid_argument", "body is required"},
		{"oversized", `{"name": "` + strings.Repeat("a", 1<<20) + `"}`, []reqOpt{asJSON}, 413, "payload_too_large", "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := send(t, srv, "PATCH", "/api/v1/me", tc.body, append(tc.opts, tok)...).wantError(t, tc.status, tc.code)
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q does not mention %q", msg, tc.msg)
			}
		})
	}
	// JSON with a charset and a +json type are JSON.
	send(t, srv, "PATCH", "/api/v1/me", `{"status_message": "one"}`, tok, withHeader("Content-Type", "application/json; charset=utf-8")).
		must(t, http.StatusOK, nil)
	send(t, srv, "PATCH", "/api/v1/me", `{"status_message": "two"}`, tok, withHeader("Content-Type", "application/merge-patch+json")).
		must(t, http.StatusOK, nil)
	// None of the refused bodies changed the name.
	var me struct{ User userJSON }
	send(t, srv, "GET", "/api/v1/me", nil, tok).must(t, http.StatusOK, &me)
	if me.User.Name != "Ana" || me.User.StatusMessage != "two" {
		t.Errorf("me after the bodies: %+v", me.User)
	}
	// An oversized signup creates no account.
	send(t, srv, "POST", "/api/v1/auth/signup", `{"email": "big@example.com", "password": "correct horse battery", "name": "`+
		strings.Repeat("a", 2<<20)+`"}`, asJSON).wantError(t, http.StatusRequestEntityTooLarge, "payload_too_large")
	send(t, srv, "POST", "/api/v1/auth/login", map[string]string{"email": "big@example.com", "password": "correct horse battery"}).
		wantError(t, http.StatusUnauthorized, "unauthenticated")
}

func TestRequestID(t *testing.T) {
	srv := servertest.Start(t)
	a := send(t, srv, "GET", "/healthz", nil, withHeader("X-Request-ID", "trace-42.a_b:c"))
	if got := a.header.Get("X-Request-ID"); got != "trace-42.a_b:c" {
		t.Errorf("echoed X-Request-ID %q", got)
	}
	gen := regexp.MustCompile(`^[0-9a-f]{24}$`)
	a = send(t, srv, "GET", "/api/v1/me", nil)
	first := a.header.Get("X-Request-ID")
	if !gen.MatchString(first) {
		t.Errorf("generated X-Request-ID %q", first)
	}
	// Errors carry one too, and each request gets its own.
	if second := send(t, srv, "GET", "/api/v1/me", nil).header.Get("X-Request-ID"); second == first || !gen.MatchString(second) {
		t.Errorf("second generated id %q after %q", second, first)
	}
	// An id that could forge log lines is replaced.
	if got := send(t, srv, "GET", "/healthz", nil, withHeader("X-Request-ID", "a b\tc")).header.Get("X-Request-ID"); !gen.MatchString(got) {
		t.Errorf("unsafe X-Request-ID answered with %q", got)
	}
}

func TestCORS(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.CORSOrigins = []string{"https://app.example.com"} })

	pre := send(t, srv, "OPTIONS", "/api/v1/me", nil,
		withHeader("Origin", "https://app.example.com"),
		withHeader("Access-Control-Request-Method", "PATCH"),
		withHeader("Access-Control-Request-Headers", "authorization, content-type"))
	if pre.status != http.StatusNoContent {
		t.Fatalf("preflight status %d", pre.status)
	}
	if got := pre.header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("Allow-Origin %q", got)
	}
	for _, want := range []string{"PATCH", "DELETE"} {
		if !strings.Contains(pre.header.Get("Access-Control-Allow-Methods"), want) {
			t.Errorf("Allow-Methods %q lacks %s", pre.header.Get("Access-Control-Allow-Methods"), want)
		}
	}
	allowHeaders := strings.ToLower(pre.header.Get("Access-Control-Allow-Headers"))
	for _, want := range []string{"authorization", "content-type"} {
		if !strings.Contains(allowHeaders, want) {
			t.Errorf("Allow-Headers %q lacks %s", allowHeaders, want)
		}
	}
	if pre.header.Get("Access-Control-Max-Age") == "" {
		t.Error("no Access-Control-Max-Age")
	}

	// The request itself gets the origin and the exposed headers.
	a := send(t, srv, "GET", "/api/v1/me", nil, withHeader("Origin", "https://app.example.com"))
	if got := a.header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("Allow-Origin on the answer %q", got)
	}
	if !strings.Contains(a.header.Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Errorf("Expose-Headers %q", a.header.Get("Access-Control-Expose-Headers"))
	}
	if !strings.Contains(strings.Join(a.header.Values("Vary"), ","), "Origin") {
		t.Errorf("Vary %q lacks Origin", a.header.Values("Vary"))
	}

	// Other origins get no CORS headers, preflight or not.
	pre = send(t, srv, "OPTIONS", "/api/v1/me", nil,
		withHeader("Origin", "https://evil.example.com"), withHeader("Access-Control-Request-Method", "GET"))
	if got := pre.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("preflight from another origin allowed: %q", got)
	}
	a = send(t, srv, "GET", "/healthz", nil, withHeader("Origin", "https://evil.example.com"))
	if got := a.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("answer to another origin allowed: %q", got)
	}
}

func TestNoCORSByDefault(t *testing.T) {
	srv := servertest.Start(t)
	a := send(t, srv, "GET", "/healthz", nil, withHeader("Origin", "https://app.example.com"))
	if got := a.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("Allow-Origin %q with no origins configured", got)
	}
}

func TestOperationsEndpoints(t *testing.T) {
	srv := servertest.Start(t)
	if a := send(t, srv, "GET", "/healthz", nil).must(t, http.StatusOK, nil); strings.TrimSpace(string(a.body)) != "ok" {
		t.Errorf("/healthz said %q", a.body)
	}
	send(t, srv, "GET", "/readyz", nil).must(t, http.StatusOK, nil)

	a := send(t, srv, "GET", "/api/v1/openapi.yaml", nil).must(t, http.StatusOK, nil)
	if !bytes.HasPrefix(a.body, []byte("openapi: 3.")) {
		t.Errorf("openapi.yaml starts %q", a.body[:min(len(a.body), 20)])
	}

	acct := srv.SignupVerified(t, "Ana")
	for range 3 {
		send(t, srv, "GET", "/api/v1/me", nil, withToken(acct.AccessToken)).must(t, http.StatusOK, nil)
	}
	send(t, srv, "GET", "/api/v1/me", nil).must(t, http.StatusUnauthorized, nil)
	send(t, srv, "GET", "/api/v1/users/"+acct.ID+"/nothing-here", nil).must(t, http.StatusNotFound, nil)

	m := string(send(t, srv, "GET", "/metrics", nil).must(t, http.StatusOK, nil).body)
	for _, want := range []string{
		`plop_http_requests_total{method="GET",route="GET /api/v1/me",status="200"} 3`,
		`plop_http_requests_total{method="GET",route="GET /api/v1/me",status="401"} 1`,
		`plop_http_requests_total{method="POST",route="POST /api/v1/auth/signup",status="201"} 1`,
		`plop_http_requests_total{method="GET",route="/api/",status="404"} 1`,
		`plop_http_request_duration_seconds_count{route="GET /api/v1/me"} 4`,
		`plop_db_open_connections`,
		`go_goroutines`,
		"\nprocess_",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Raw paths never become labels.
	if strings.Contains(m, acct.ID) {
		t.Error("a user id appears in the metrics")
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	srv := servertest.Start(t)
	send(t, srv, "GET", "/api/v1/nothing", nil).wantError(t, http.StatusNotFound, "not_found")
	a := send(t, srv, "DELETE", "/api/v1/me", nil)
	a.wantError(t, http.StatusMethodNotAllowed, "invalid_argument")
	if got := a.header.Get("Allow"); got != "GET, PATCH" {
		t.Errorf("Allow %q, want GET, PATCH", got)
	}
	a = send(t, srv, "GET", "/api/v1/friends/requests/x/accept", nil)
	a.wantError(t, http.StatusMethodNotAllowed, "invalid_argument")
	if got := a.header.Get("Allow"); got != "POST" {
		t.Errorf("Allow %q, want POST", got)
	}
}

func TestRoomsAndMessages(t *testing.T) {
	srv := servertest.Start(t)
	ana := srv.SignupVerified(t, "Ana")
	bo := srv.SignupVerified(t, "Bo")
	srv.MakeFriends(t, ana, bo)
	tok := withToken(ana.AccessToken)

	var room struct {
		Room struct {
			ID      string           `json:"id"`
			Type    string           `json:"type"`
			Members []map[string]any `json:"members"`
		} `json:"room"`
	}
	send(t, srv, "POST", "/api/v1/rooms", map[string]any{"type": "direct", "member_ids": []string{bo.ID}}, tok).
		must(t, http.StatusCreated, &room)
	if room.Room.ID == "" || room.Room.Type != "direct" || len(room.Room.Members) != 2 {
		t.Fatalf("room %+v", room.Room)
	}
	id := room.Room.ID
	// The same pair gets the same room, with 200.
	var again struct{ Room struct{ ID string } }
	send(t, srv, "POST", "/api/v1/rooms", map[string]any{"type": "direct", "member_ids": []string{ana.ID}},
		withToken(bo.AccessToken)).must(t, http.StatusOK, &again)
	if again.Room.ID != id {
		t.Errorf("second direct room %s, want %s", again.Room.ID, id)
	}

	var msg struct {
		Message map[string]any `json:"message"`
	}
	a := send(t, srv, "POST", "/api/v1/rooms/"+id+"/messages", map[string]string{"body": "hi", "client_msg_id": "c1"}, tok).
		must(t, http.StatusCreated, &msg)
	if got := keys(msg.Message); got != "attachments,body,client_msg_id,created_at,deleted,edited_at,id,reactions,reply_to,room_id,sender_id,seq" {
		t.Errorf("message keys %s", got)
	}
	if !bytes.Contains(a.body, []byte(`"reactions":[]`)) || !bytes.Contains(a.body, []byte(`"attachments":[]`)) {
		t.Errorf("message lists are not []: %s", a.body)
	}
	// A retry with the same client_msg_id is answered 200 with the same message.
	var retry struct{ Message map[string]any }
	send(t, srv, "POST", "/api/v1/rooms/"+id+"/messages", map[string]string{"body": "hi", "client_msg_id": "c1"}, tok).
		must(t, http.StatusOK, &retry)
	if retry.Message["id"] != msg.Message["id"] {
		t.Errorf("retry stored another message")
	}

	// Reactions: the emoji travels percent-encoded in the path.
	send(t, srv, "PUT", "/api/v1/rooms/"+id+"/messages/1/reactions/%F0%9F%91%8D", nil, withToken(bo.AccessToken)).
		must(t, http.StatusNoContent, nil)
	var hist struct {
		Messages []struct {
			Seq       int64 `json:"seq"`
			Reactions []struct {
				Emoji string `json:"emoji"`
				Count int    `json:"count"`
			} `json:"reactions"`
		} `json:"messages"`
	}
	send(t, srv, "GET", "/api/v1/rooms/"+id+"/messages?after=0&limit=10", nil, tok).must(t, http.StatusOK, &hist)
	if len(hist.Messages) != 1 || len(hist.Messages[0].Reactions) != 1 || hist.Messages[0].Reactions[0].Emoji != "👍" {
		t.Fatalf("history %+v", hist.Messages)
	}
	send(t, srv, "DELETE", "/api/v1/rooms/"+id+"/messages/1/reactions/%F0%9F%91%8D", nil, withToken(bo.AccessToken)).
		must(t, http.StatusNoContent, nil)

	send(t, srv, "PATCH", "/api/v1/rooms/"+id+"/messages/1", map[string]string{"body": "hello"}, tok).must(t, http.StatusOK, nil)
	send(t, srv, "POST", "/api/v1/rooms/"+id+"/read", map[string]int{"seq": 1}, withToken(bo.AccessToken)).must(t, http.StatusNoContent, nil)
	send(t, srv, "DELETE", "/api/v1/rooms/"+id+"/messages/1", nil, tok).must(t, http.StatusOK, nil)

	for _, bad := range []string{"before=x", "after=-1", "limit=0", "before=2&after=1"} {
		send(t, srv, "GET", "/api/v1/rooms/"+id+"/messages?"+bad, nil, tok).wantError(t, http.StatusBadRequest, "invalid_argument")
	}
	for _, seq := range []string{"x", "0", "-1", "1.5"} {
		send(t, srv, "PATCH", "/api/v1/rooms/"+id+"/messages/"+seq, map[string]string{"body": "x"}, tok).
			wantError(t, http.StatusBadRequest, "invalid_argument")
	}

	var list struct {
		Rooms      []map[string]any `json:"rooms"`
		NextCursor *string          `json:"next_cursor"`
	}
	send(t, srv, "GET", "/api/v1/rooms", nil, tok).must(t, http.StatusOK, &list)
	if len(list.Rooms) != 1 || list.NextCursor == nil {
		t.Errorf("rooms %+v", list)
	}
	// A stranger sees nothing of the room.
	cy := srv.SignupVerified(t, "Cy")
	send(t, srv, "GET", "/api/v1/rooms/"+id, nil, withToken(cy.AccessToken)).wantError(t, http.StatusNotFound, "not_found")
	send(t, srv, "GET", "/api/v1/rooms/"+id+"/messages", nil, withToken(cy.AccessToken)).wantError(t, http.StatusNotFound, "not_found")
	a = send(t, srv, "GET", "/api/v1/rooms", nil, withToken(cy.AccessToken)).must(t, http.StatusOK, nil)
	if !bytes.Contains(a.body, []byte(`"rooms":[]`)) {
		t.Errorf("a stranger's rooms: %s", a.body)
	}
}
