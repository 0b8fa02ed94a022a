package httpapi_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/plop-chat/plop/internal/servertest"
)

type userJSON struct {
	ID            string `json:"id"`
	Email         string `json:"email"`
	Name          string `json:"name"`
	StatusMessage string `json:"status_message"`
	AvatarURL     string `json:"avatar_url"`
	Verified      bool   `json:"verified"`
}

func TestMeAndProfiles(t *testing.T) {
	srv := servertest.Start(t)
	ana := srv.SignupVerified(t, "Ana")
	bo := srv.SignupVerified(t, "Bo")

	var me struct{ User userJSON }
	send(t, srv, "GET", "/api/v1/me", nil, withToken(ana.AccessToken)).must(t, http.StatusOK, &me)
	if me.User.ID != ana.ID || me.User.Email != ana.Email || !me.User.Verified {
		t.Errorf("me %+v", me.User)
	}

	send(t, srv, "PATCH", "/api/v1/me", map[string]string{"name": "Ana Lima", "status_message": "on a boat"},
		withToken(ana.AccessToken)).must(t, http.StatusOK, &me)
	if me.User.Name != "Ana Lima" || me.User.StatusMessage != "on a boat" {
		t.Errorf("after PATCH %+v", me.User)
	}
	// Fields left out stay as they are.
	send(t, srv, "PATCH", "/api/v1/me", map[string]string{"status_message": ""},
		withToken(ana.AccessToken)).must(t, http.StatusOK, &me)
	if me.User.Name != "Ana Lima" || me.User.StatusMessage != "" {
		t.Errorf("after second PATCH %+v", me.User)
	}
	// A refused change changes nothing.
	send(t, srv, "PATCH", "/api/v1/me", map[string]string{"name": ""}, withToken(ana.AccessToken)).
		wantError(t, http.StatusBadRequest, "invalid_argument")
	send(t, srv, "PATCH", "/api/v1/me", map[string]any{"name": 7}, withToken(ana.AccessToken)).
		wantError(t, http.StatusBadRequest, "invalid_argument")
	send(t, srv, "GET", "/api/v1/me", nil, withToken(ana.AccessToken)).must(t, http.StatusOK, &me)
	if me.User.Name != "Ana Lima" {
		t.Errorf("name %q after refused changes", me.User.Name)
	}

	// Others see the profile without the e-mail address.
	a := send(t, srv, "GET", "/api/v1/users/"+ana.ID, nil, withToken(bo.AccessToken))
	var other struct{ User userJSON }
	a.must(t, http.StatusOK, &other)
	if other.User.Name != "Ana Lima" || other.User.Email != "" || strings.Contains(string(a.body), ana.Email) {
		t.Errorf("public profile %s", a.body)
	}
	send(t, srv, "GET", "/api/v1/users/no-such-user", nil, withToken(bo.AccessToken)).
		wantError(t, http.StatusNotFound, "not_found")
}

func TestSearchUsers(t *testing.T) {
	srv := servertest.Start(t)
	ana := srv.SignupVerified(t, "Ana")
	srv.SignupVerified(t, "Anabel")
	bo := srv.SignupVerified(t, "Bo")
	signup(t, srv, "annie@example.com", "Annie") // unverified: never found

	var found struct{ Users []userJSON }
	send(t, srv, "GET", "/api/v1/users?q=an", nil, withToken(bo.AccessToken)).must(t, http.StatusOK, &found)
	if names := userNames(found.Users); names != "Ana,Anabel" {
		t.Errorf("search an found %s, want Ana,Anabel", names)
	}
	for _, u := range found.Users {
		if u.Email != "" {
			t.Errorf("search shows the e-mail of %s", u.Name)
		}
	}
	// By exact e-mail.
	send(t, srv, "GET", "/api/v1/users?q="+ana.Email, nil, withToken(bo.AccessToken)).must(t, http.StatusOK, &found)
	if names := userNames(found.Users); names != "Ana" {
		t.Errorf("search by e-mail found %s", names)
	}
	// Nothing found is an empty list, not null.
	a := send(t, srv, "GET", "/api/v1/users?q=zzz", nil, withToken(bo.AccessToken)).must(t, http.StatusOK, nil)
	if strings.TrimSpace(string(a.body)) != `{"users":[]}` {
		t.Errorf("empty search answered %s", a.body)
	}
	send(t, srv, "GET", "/api/v1/users", nil, withToken(bo.AccessToken)).wantError(t, http.StatusBadRequest, "invalid_argument")
	send(t, srv, "GET", "/api/v1/users?q=an&limit=x", nil, withToken(bo.AccessToken)).wantError(t, http.StatusBadRequest, "invalid_argument")
	send(t, srv, "GET", "/api/v1/users?q=an&limit=1", nil, withToken(bo.AccessToken)).must(t, http.StatusOK, &found)
	if len(found.Users) != 1 {
		t.Errorf("limit=1 gave %d users", len(found.Users))
	}
}

func userNames(us []userJSON) string {
	var names []string
	for _, u := range us {
		names = append(names, u.Name)
	}
	return strings.Join(names, ",")
}

// pngImage returns a w×h PNG.
func pngImage(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestAvatarUploadAndServe(t *testing.T) {
	srv := servertest.Start(t)
	ana := srv.SignupVerified(t, "Ana")
	bo := srv.SignupVerified(t, "Bo")

	var me struct{ User userJSON }
	send(t, srv, "PUT", "/api/v1/me/avatar", pngImage(t, 64, 48),
		withToken(ana.AccessToken), withHeader("Content-Type", "image/png")).must(t, http.StatusOK, &me)
	url := me.User.AvatarURL
	if !strings.HasPrefix(url, "/api/v1/avatars/") {
		t.Fatalf("avatar_url %q", url)
	}

	// Served to anyone, without a token, cacheable for good.
	a := send(t, srv, "GET", url, nil).must(t, http.StatusOK, nil)
	if ct := a.header.Get("Content-Type"); ct != "image/jpeg" && ct != "image/png" {
		t.Errorf("Content-Type %q", ct)
	}
	if _, _, err := image.Decode(bytes.NewReader(a.body)); err != nil {
		t.Errorf("served avatar is not an image: %v", err)
	}
	if cc := a.header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control %q", cc)
	}
	etag := a.header.Get("ETag")
	if etag == "" || a.header.Get("Last-Modified") == "" {
		t.Fatalf("no ETag (%q) or Last-Modified (%q)", etag, a.header.Get("Last-Modified"))
	}
	if nosniff := a.header.Get("X-Content-Type-Options"); nosniff != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", nosniff)
	}
	cond := send(t, srv, "GET", url, nil, withHeader("If-None-Match", etag))
	if cond.status != http.StatusNotModified || len(cond.body) != 0 {
		t.Errorf("conditional GET: %d with %d bytes, want 304 and none", cond.status, len(cond.body))
	}

	// Others see the same URL on the profile.
	var other struct{ User userJSON }
	send(t, srv, "GET", "/api/v1/users/"+ana.ID, nil, withToken(bo.AccessToken)).must(t, http.StatusOK, &other)
	if other.User.AvatarURL != url {
		t.Errorf("profile avatar_url %q, want %q", other.User.AvatarURL, url)
	}

	// A multipart upload replaces it; the old file is gone.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("note", "ignored"); err != nil {
		t.Fatal(err)
	}
	fw, err := mw.CreateFormFile("file", "me.png")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(pngImage(t, 32, 32))
	mw.Close()
	send(t, srv, "PUT", "/api/v1/me/avatar", body.Bytes(),
		withToken(ana.AccessToken), withHeader("Content-Type", mw.FormDataContentType())).must(t, http.StatusOK, &me)
	if me.User.AvatarURL == url || me.User.AvatarURL == "" {
		t.Fatalf("avatar_url after replacing: %q", me.User.AvatarURL)
	}
	send(t, srv, "GET", me.User.AvatarURL, nil).must(t, http.StatusOK, nil)
	send(t, srv, "GET", url, nil).wantError(t, http.StatusNotFound, "not_found")
	send(t, srv, "GET", "/api/v1/avatars/"+ana.ID+"/..", nil).wantError(t, http.StatusNotFound, "not_found")
}

func TestAvatarRefusals(t *testing.T) {
	srv := servertest.Start(t)
	ana := srv.SignupVerified(t, "Ana")
	tok := withToken(ana.AccessToken)

	send(t, srv, "PUT", "/api/v1/me/avatar", "this is not an image", tok, withHeader("Content-Type", "image/png")).
		wantError(t, http.StatusBadRequest, "invalid_argument")
	send(t, srv, "PUT", "/api/v1/me/avatar", nil, tok).
		wantError(t, http.StatusBadRequest, "invalid_argument")

	// A multipart form without the file field.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("other", "x")
	mw.Close()
	send(t, srv, "PUT", "/api/v1/me/avatar", body.Bytes(), tok, withHeader("Content-Type", mw.FormDataContentType())).
		wantError(t, http.StatusBadRequest, "invalid_argument")

	// Larger than 10 MiB: refused, raw or multipart, whatever the bytes are.
	huge := append(pngImage(t, 8, 8), make([]byte, 10<<20)...)
	send(t, srv, "PUT", "/api/v1/me/avatar", huge, tok, withHeader("Content-Type", "image/png")).
		wantError(t, http.StatusRequestEntityTooLarge, "payload_too_large")
	body.Reset()
	mw = multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "huge.png")
	fw.Write(huge)
	mw.Close()
	send(t, srv, "PUT", "/api/v1/me/avatar", body.Bytes(), tok, withHeader("Content-Type", mw.FormDataContentType())).
		wantError(t, http.StatusRequestEntityTooLarge, "payload_too_large")

	// Nothing changed.
	var me struct{ User userJSON }
	send(t, srv, "GET", "/api/v1/me", nil, tok).must(t, http.StatusOK, &me)
	if me.User.AvatarURL != "" {
		t.Errorf("avatar_url %q after refused uploads", me.User.AvatarURL)
	}
}
