package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/plop-chat/plop/internal/servertest"
)

type requestJSON struct {
	ID     string    `json:"id"`
	FromID string    `json:"from_id"`
	ToID   string    `json:"to_id"`
	From   *userJSON `json:"from"`
	To     *userJSON `json:"to"`
}

type friendJSON struct {
	User     userJSON `json:"user"`
	Since    string   `json:"since"`
	Presence struct {
		UserID   string  `json:"user_id"`
		Online   bool    `json:"online"`
		LastSeen *string `json:"last_seen"`
	} `json:"presence"`
}

// friendsOf returns the names of the friends of the token's owner.
func friendsOf(tb testing.TB, srv *servertest.Server, token string) string {
	tb.Helper()
	a := send(tb, srv, "GET", "/api/v1/friends", nil, withToken(token))
	var out struct {
		Friends []friendJSON `json:"friends"`
	}
	a.must(tb, http.StatusOK, &out)
	if out.Friends == nil {
		tb.Fatalf("friends is not a list: %s", a.body)
	}
	var names []string
	for _, f := range out.Friends {
		names = append(names, f.User.Name)
	}
	return strings.Join(names, ",")
}

// requests lists the pending requests of the token's owner in direction.
func requests(tb testing.TB, srv *servertest.Server, token, direction string) []requestJSON {
	tb.Helper()
	var out struct {
		Requests   []requestJSON `json:"requests"`
		NextCursor *string       `json:"next_cursor"`
	}
	a := send(tb, srv, "GET", "/api/v1/friends/requests?direction="+direction, nil, withToken(token))
	a.must(tb, http.StatusOK, &out)
	if out.Requests == nil || out.NextCursor == nil {
		tb.Fatalf("requests answer %s lacks requests or next_cursor", a.body)
	}
	return out.Requests
}

func TestFriendRequestLifecycle(t *testing.T) {
	srv := servertest.Start(t)
	ana := srv.SignupVerified(t, "Ana")
	bo := srv.SignupVerified(t, "Bo")
	cy := srv.SignupVerified(t, "Cy")

	if got := friendsOf(t, srv, ana.AccessToken); got != "" {
		t.Fatalf("new user has friends %s", got)
	}

	var sent struct{ Request requestJSON }
	send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{"user_id": bo.ID}, withToken(ana.AccessToken)).
		must(t, http.StatusCreated, &sent)
	if sent.Request.ID == "" || sent.Request.FromID != ana.ID || sent.Request.ToID != bo.ID {
		t.Fatalf("request %+v", sent.Request)
	}
	// A second request either way is a conflict.
	send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{"user_id": bo.ID}, withToken(ana.AccessToken)).
		wantError(t, http.StatusConflict, "conflict")
	send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{"email": ana.Email}, withToken(bo.AccessToken)).
		wantError(t, http.StatusConflict, "conflict")
	send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{"user_id": ana.ID}, withToken(ana.AccessToken)).
		wantError(t, http.StatusBadRequest, "invalid_argument")
	send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{"user_id": "nobody"}, withToken(ana.AccessToken)).
		wantError(t, http.StatusNotFound, "not_found")
	send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{}, withToken(ana.AccessToken)).
		wantError(t, http.StatusBadRequest, "invalid_argument")

	in := requests(t, srv, bo.AccessToken, "incoming")
	if len(in) != 1 || in[0].ID != sent.Request.ID || in[0].From == nil || in[0].From.Name != "Ana" || in[0].From.Email != "" {
		t.Fatalf("Bo's incoming requests %+v", in)
	}
	if out := requests(t, srv, ana.AccessToken, "outgoing"); len(out) != 1 || out[0].ID != sent.Request.ID {
		t.Fatalf("Ana's outgoing requests %+v", out)
	}
	if got := requests(t, srv, ana.AccessToken, "incoming"); len(got) != 0 {
		t.Fatalf("Ana's incoming requests %+v", got)
	}
	send(t, srv, "GET", "/api/v1/friends/requests?direction=sideways", nil, withToken(ana.AccessToken)).
		wantError(t, http.StatusBadRequest, "invalid_argument")

	// Only the addressee can accept; the sender's attempt finds nothing.
	send(t, srv, "POST", "/api/v1/friends/requests/"+sent.Request.ID+"/accept", nil, withToken(ana.AccessToken)).
		wantError(t, http.StatusNotFound, "not_found")
	send(t, srv, "POST", "/api/v1/friends/requests/"+sent.Request.ID+"/accept", nil, withToken(cy.AccessToken)).
		wantError(t, http.StatusNotFound, "not_found")
	if got := friendsOf(t, srv, ana.AccessToken); got != "" {
		t.Fatalf("refused accepts made friends: %s", got)
	}

	var accepted struct{ Friend friendJSON }
	send(t, srv, "POST", "/api/v1/friends/requests/"+sent.Request.ID+"/accept", nil, withToken(bo.AccessToken)).
		must(t, http.StatusOK, &accepted)
	if accepted.Friend.User.ID != ana.ID || accepted.Friend.Since == "" || accepted.Friend.Presence.UserID != ana.ID {
		t.Errorf("accepted friend %+v", accepted.Friend)
	}
	if got := friendsOf(t, srv, ana.AccessToken); got != "Bo" {
		t.Errorf("Ana's friends %q", got)
	}
	if got := friendsOf(t, srv, bo.AccessToken); got != "Ana" {
		t.Errorf("Bo's friends %q", got)
	}
	if got := requests(t, srv, bo.AccessToken, "incoming"); len(got) != 0 {
		t.Errorf("accepted request still pending: %+v", got)
	}
	send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{"user_id": bo.ID}, withToken(ana.AccessToken)).
		wantError(t, http.StatusConflict, "conflict")

	// Decline by the addressee and withdraw by the sender.
	send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{"email": cy.Email}, withToken(ana.AccessToken)).
		must(t, http.StatusCreated, &sent)
	send(t, srv, "POST", "/api/v1/friends/requests/"+sent.Request.ID+"/decline", nil, withToken(cy.AccessToken)).
		must(t, http.StatusNoContent, nil)
	send(t, srv, "POST", "/api/v1/friends/requests/"+sent.Request.ID+"/accept", nil, withToken(cy.AccessToken)).
		wantError(t, http.StatusNotFound, "not_found")
	send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{"user_id": cy.ID}, withToken(bo.AccessToken)).
		must(t, http.StatusCreated, &sent)
	send(t, srv, "POST", "/api/v1/friends/requests/"+sent.Request.ID+"/decline", nil, withToken(bo.AccessToken)).
		must(t, http.StatusNoContent, nil)
	if got := requests(t, srv, cy.AccessToken, "incoming"); len(got) != 0 {
		t.Errorf("Cy still has requests %+v", got)
	}
	if got := friendsOf(t, srv, cy.AccessToken); got != "" {
		t.Errorf("Cy has friends %q after declines", got)
	}

	// Unfriend, then unfriending again finds nothing.
	send(t, srv, "DELETE", "/api/v1/friends/"+bo.ID, nil, withToken(ana.AccessToken)).must(t, http.StatusNoContent, nil)
	send(t, srv, "DELETE", "/api/v1/friends/"+bo.ID, nil, withToken(ana.AccessToken)).wantError(t, http.StatusNotFound, "not_found")
	if got := friendsOf(t, srv, bo.AccessToken); got != "" {
		t.Errorf("Bo's friends after unfriend %q", got)
	}
}

func TestFriendRequestsPaginate(t *testing.T) {
	srv := servertest.Start(t)
	ana := srv.SignupVerified(t, "Ana")
	for _, name := range []string{"Bo", "Cy", "Di"} {
		other := srv.SignupVerified(t, name)
		send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{"user_id": ana.ID}, withToken(other.AccessToken)).
			must(t, http.StatusCreated, nil)
	}
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page > 3 {
			t.Fatal("pagination does not end")
		}
		var out struct {
			Requests   []requestJSON `json:"requests"`
			NextCursor string        `json:"next_cursor"`
		}
		send(t, srv, "GET", "/api/v1/friends/requests?limit=2&cursor="+cursor, nil, withToken(ana.AccessToken)).
			must(t, http.StatusOK, &out)
		if len(out.Requests) > 2 {
			t.Fatalf("page of %d with limit 2", len(out.Requests))
		}
		for _, r := range out.Requests {
			if seen[r.ID] {
				t.Fatalf("request %s on two pages", r.ID)
			}
			seen[r.ID] = true
		}
		if out.NextCursor == "" {
			break
		}
		cursor = out.NextCursor
	}
	if len(seen) != 3 {
		t.Errorf("pages held %d requests, want 3", len(seen))
	}
	for _, bad := range []string{"limit=0", "limit=-1", "limit=two"} {
		send(t, srv, "GET", "/api/v1/friends/requests?"+bad, nil, withToken(ana.AccessToken)).
			wantError(t, http.StatusBadRequest, "invalid_argument")
	}
}

func TestBlocks(t *testing.T) {
	srv := servertest.Start(t)
	ana := srv.SignupVerified(t, "Ana")
	bo := srv.SignupVerified(t, "Bo")
	cy := srv.SignupVerified(t, "Cy")
	srv.MakeFriends(t, ana, cy)

	// A pending request from Bo disappears when Ana blocks him.
	send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{"user_id": ana.ID}, withToken(bo.AccessToken)).
		must(t, http.StatusCreated, nil)
	send(t, srv, "PUT", "/api/v1/blocks/"+bo.ID, nil, withToken(ana.AccessToken)).must(t, http.StatusNoContent, nil)
	send(t, srv, "PUT", "/api/v1/blocks/"+bo.ID, nil, withToken(ana.AccessToken)).must(t, http.StatusNoContent, nil)
	if got := requests(t, srv, ana.AccessToken, "incoming"); len(got) != 0 {
		t.Errorf("request survived the block: %+v", got)
	}

	// Neither can befriend the other, see the other's profile or find the other.
	send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{"user_id": ana.ID}, withToken(bo.AccessToken)).
		wantError(t, http.StatusForbidden, "forbidden")
	send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{"email": bo.Email}, withToken(ana.AccessToken)).
		wantError(t, http.StatusForbidden, "forbidden")
	send(t, srv, "GET", "/api/v1/users/"+ana.ID, nil, withToken(bo.AccessToken)).wantError(t, http.StatusNotFound, "not_found")
	send(t, srv, "GET", "/api/v1/users/"+bo.ID, nil, withToken(ana.AccessToken)).wantError(t, http.StatusNotFound, "not_found")
	var found struct{ Users []userJSON }
	send(t, srv, "GET", "/api/v1/users?q=bo", nil, withToken(ana.AccessToken)).must(t, http.StatusOK, &found)
	if len(found.Users) != 0 {
		t.Errorf("Ana finds %s", userNames(found.Users))
	}
	send(t, srv, "GET", "/api/v1/users?q="+ana.Email, nil, withToken(bo.AccessToken)).must(t, http.StatusOK, &found)
	if len(found.Users) != 0 {
		t.Errorf("Bo finds %s", userNames(found.Users))
	}
	// The refused requests changed nothing.
	for _, tok := range []string{ana.AccessToken, bo.AccessToken} {
		if got := requests(t, srv, tok, "incoming"); len(got) != 0 {
			t.Errorf("requests after refusals: %+v", got)
		}
		if got := requests(t, srv, tok, "outgoing"); len(got) != 0 {
			t.Errorf("requests after refusals: %+v", got)
		}
	}
	if got := friendsOf(t, srv, bo.AccessToken); got != "" {
		t.Errorf("Bo's friends %q", got)
	}
	// Cy, uninvolved, still finds both.
	send(t, srv, "GET", "/api/v1/users/"+bo.ID, nil, withToken(cy.AccessToken)).must(t, http.StatusOK, nil)

	// Blocking a friend ends the friendship.
	send(t, srv, "PUT", "/api/v1/blocks/"+cy.ID, nil, withToken(ana.AccessToken)).must(t, http.StatusNoContent, nil)
	if got := friendsOf(t, srv, cy.AccessToken); got != "" {
		t.Errorf("Cy's friends after the block %q", got)
	}

	send(t, srv, "PUT", "/api/v1/blocks/"+ana.ID, nil, withToken(ana.AccessToken)).wantError(t, http.StatusBadRequest, "invalid_argument")
	send(t, srv, "PUT", "/api/v1/blocks/nobody", nil, withToken(ana.AccessToken)).wantError(t, http.StatusNotFound, "not_found")

	// Unblocking lets them meet again.
	send(t, srv, "DELETE", "/api/v1/blocks/"+bo.ID, nil, withToken(ana.AccessToken)).must(t, http.StatusNoContent, nil)
	send(t, srv, "GET", "/api/v1/users/"+ana.ID, nil, withToken(bo.AccessToken)).must(t, http.StatusOK, nil)
	send(t, srv, "POST", "/api/v1/friends/requests", map[string]string{"user_id": ana.ID}, withToken(bo.AccessToken)).
		must(t, http.StatusCreated, nil)
}

func TestPresence(t *testing.T) {
	srv := servertest.Start(t)
	ana := srv.SignupVerified(t, "Ana")
	bo := srv.SignupVerified(t, "Bo")
	cy := srv.SignupVerified(t, "Cy")
	srv.MakeFriends(t, ana, bo)

	var out struct {
		Presence []struct {
			UserID   string  `json:"user_id"`
			Online   bool    `json:"online"`
			LastSeen *string `json:"last_seen"`
		} `json:"presence"`
	}
	// Only friends are answered for; Cy is left out.
	send(t, srv, "GET", "/api/v1/presence?user_ids="+cy.ID+","+bo.ID, nil, withToken(ana.AccessToken)).
		must(t, http.StatusOK, &out)
	if len(out.Presence) != 1 || out.Presence[0].UserID != bo.ID || out.Presence[0].Online {
		t.Errorf("presence %+v", out.Presence)
	}
	// Repeated parameters work too.
	send(t, srv, "GET", "/api/v1/presence?user_ids="+bo.ID+"&user_ids="+cy.ID, nil, withToken(ana.AccessToken)).
		must(t, http.StatusOK, &out)
	if len(out.Presence) != 1 {
		t.Errorf("presence %+v", out.Presence)
	}
	a := send(t, srv, "GET", "/api/v1/presence", nil, withToken(cy.AccessToken)).must(t, http.StatusOK, nil)
	if strings.TrimSpace(string(a.body)) != `{"presence":[]}` {
		t.Errorf("presence of nobody: %s", a.body)
	}
	many := strings.Repeat("x,", 201)
	send(t, srv, "GET", "/api/v1/presence?user_ids="+many, nil, withToken(cy.AccessToken)).
		wantError(t, http.StatusBadRequest, "invalid_argument")
}

func TestDevices(t *testing.T) {
	srv := servertest.Start(t)
	ana := srv.SignupVerified(t, "Ana")
	bo := srv.SignupVerified(t, "Bo")
	tok := withToken(ana.AccessToken)

	devices := func(token string) []map[string]any {
		t.Helper()
		var out struct {
			Devices []map[string]any `json:"devices"`
		}
		a := send(t, srv, "GET", "/api/v1/devices", nil, withToken(token)).must(t, http.StatusOK, &out)
		if out.Devices == nil {
			t.Fatalf("devices is not a list: %s", a.body)
		}
		return out.Devices
	}
	if got := devices(ana.AccessToken); len(got) != 0 {
		t.Fatalf("new user has devices %v", got)
	}

	var fcm struct{ Device map[string]any }
	a := send(t, srv, "POST", "/api/v1/devices", map[string]string{"platform": "fcm", "token": "fcm-token-1"}, tok).
		must(t, http.StatusCreated, &fcm)
	if got := keys(fcm.Device); got != "created_at,id,platform" {
		t.Errorf("device has keys %s (%s)", got, a.body)
	}
	if strings.Contains(string(a.body), "fcm-token-1") {
		t.Error("the push token is echoed back")
	}
	send(t, srv, "POST", "/api/v1/devices", map[string]any{
		"platform": "webpush",
		"subscription": map[string]any{
			"endpoint": "https://push.example.com/send/abc",
			"keys":     map[string]string{"p256dh": "BPk", "auth": "c2VjcmV0"},
		},
	}, tok).must(t, http.StatusCreated, nil)
	for _, bad := range []any{
		map[string]string{"platform": "fcm"},
		map[string]string{"platform": "carrier-pigeon", "token": "x"},
		map[string]any{"platform": "webpush", "subscription": map[string]any{"endpoint": "http://insecure"}},
	} {
		send(t, srv, "POST", "/api/v1/devices", bad, tok).wantError(t, http.StatusBadRequest, "invalid_argument")
	}
	if got := devices(ana.AccessToken); len(got) != 2 {
		t.Fatalf("%d devices, want 2", len(got))
	}

	// Bo cannot see or delete Ana's device.
	id := fcm.Device["id"].(string)
	send(t, srv, "DELETE", "/api/v1/devices/"+id, nil, withToken(bo.AccessToken)).wantError(t, http.StatusNotFound, "not_found")
	if got := devices(bo.AccessToken); len(got) != 0 {
		t.Errorf("Bo sees devices %v", got)
	}
	send(t, srv, "DELETE", "/api/v1/devices/"+id, nil, tok).must(t, http.StatusNoContent, nil)
	send(t, srv, "DELETE", "/api/v1/devices/"+id, nil, tok).wantError(t, http.StatusNotFound, "not_found")
	if got := devices(ana.AccessToken); len(got) != 1 || got[0]["platform"] != "webpush" {
		t.Errorf("devices after delete %v", got)
	}
}
