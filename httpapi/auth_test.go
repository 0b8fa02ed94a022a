package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plop-chat/plop/auth"
	"github.com/plop-chat/plop/internal/servertest"
)

// serverKey reads the node's signing key from its data directory.
func serverKey(tb testing.TB, srv *servertest.Server) ed25519.PrivateKey {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(srv.DataDir, "keys", "jwt-ed25519.pem"))
	if err != nil {
		tb.Fatalf("read signing key: %v", err)
	}
	keys, err := auth.ParseKeys(data)
	if err != nil {
		tb.Fatal(err)
	}
	return keys[0]
}

// claims are the claims of an access token for userID valid for ttl (negative: expired).
func claims(userID, sessionID string, ttl time.Duration) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": "plop",
		"aud": []string{"plop"},
		"sub": userID,
		"sid": sessionID,
		"iat": now.Add(-time.Minute).Unix(),
		"exp": now.Add(ttl).Unix(),
	}
}

func signEdDSA(tb testing.TB, key ed25519.PrivateKey, c jwt.MapClaims) string {
	tb.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = auth.KeyID(key.Public().(ed25519.PublicKey))
	s, err := tok.SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestAccessTokens(t *testing.T) {
	srv := servertest.Start(t)
	acct := srv.SignupVerified(t, "Ana")
	key := serverKey(t, srv)

	// A token built here with the node's key is accepted: the forgeries below differ from
	// it in one way each.
	good := signEdDSA(t, key, claims(acct.ID, "s1", time.Minute))
	send(t, srv, "GET", "/api/v1/me", nil, withToken(good)).must(t, http.StatusOK, nil)

	_, otherKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Signed by another key that claims the node's key id.
	wrongKey := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims(acct.ID, "s1", time.Minute))
	wrongKey.Header["kid"] = auth.KeyID(key.Public().(ed25519.PublicKey))
	wrongKeyToken, err := wrongKey.SignedString(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	// Not signed at all.
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(acct.ID, "s1", time.Minute)).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	// HMAC keyed with the node's public key: the algorithm confusion attack.
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(acct.ID, "s1", time.Minute))
	hs.Header["kid"] = auth.KeyID(key.Public().(ed25519.PublicKey))
	hsToken, err := hs.SignedString([]byte(key.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, header string
		invalid      bool // a token was presented (and refused)
	}{
		{"missing", "", false},
		{"not bearer", "Basic " + acct.AccessToken, false},
		{"empty bearer", "Bearer ", false},
		{"garbage", "Bearer not.a.token", true},
		{"wrong key", "Bearer " + wrongKeyToken, true},
		{"alg none", "Bearer " + none, true},
		{"HS256", "Bearer " + hsToken, true},
		{"expired", "Bearer " + signEdDSA(t, key, claims(acct.ID, "s1", -time.Minute)), true},
		{"other issuer", "Bearer " + signEdDSA(t, key, func() jwt.MapClaims {
			c := claims(acct.ID, "s1", time.Minute)
			c["iss"] = "someone-else"
			return c
		}()), true},
		{"tampered", "Bearer " + tamper(acct.AccessToken), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []reqOpt
			if tc.header != "" {
				opts = append(opts, withHeader("Authorization", tc.header))
			}
			a := send(t, srv, "GET", "/api/v1/me", nil, opts...)
			a.wantError(t, http.StatusUnauthorized, "unauthenticated")
			h := a.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(h, "Bearer") {
				t.Errorf("WWW-Authenticate %q, want Bearer", h)
			}
			if got := strings.Contains(h, `error="invalid_token"`); got != tc.invalid {
				t.Errorf("WWW-Authenticate %q: invalid_token %v, want %v", h, got, tc.invalid)
			}
			// A refused token changes nothing: a write is refused the same way.
			send(t, srv, "PATCH", "/api/v1/me", map[string]string{"name": "Mallory"}, opts...).
				wantError(t, http.StatusUnauthorized, "unauthenticated")
		})
	}
	var me struct {
		User struct{ Name string } `json:"user"`
	}
	send(t, srv, "GET", "/api/v1/me", nil, withToken(acct.AccessToken)).must(t, http.StatusOK, &me)
	if me.User.Name != "Ana" {
		t.Errorf("name %q after refused writes, want Ana", me.User.Name)
	}
}

// tamper changes the payload of a JWT and keeps its signature.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) < 2 {
		return token + "x"
	}
	p := []byte(parts[1])
	if p[1] == 'A' {
		p[1] = 'B'
	} else {
		p[1] = 'A'
	}
	return parts[0] + "." + string(p) + "." + parts[2]
}

func TestPublicRoutesNeedNoToken(t *testing.T) {
	srv := servertest.Start(t)
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/openapi.yaml"} {
		send(t, srv, "GET", path, nil).must(t, http.StatusOK, nil)
	}
	// Every other API route wants a token before it looks at anything else.
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/me"}, {"GET", "/api/v1/users?q=a"}, {"GET", "/api/v1/users/x"},
		{"GET", "/api/v1/friends"}, {"POST", "/api/v1/friends/requests"},
		{"PUT", "/api/v1/blocks/x"}, {"GET", "/api/v1/presence"}, {"GET", "/api/v1/devices"},
		{"PUT", "/api/v1/me/avatar"}, {"GET", "/api/v1/rooms"}, {"GET", "/api/v1/rooms/x/messages"},
		{"PUT", "/api/v1/rooms/x/messages/1/reactions/x"},
	} {
		send(t, srv, r.method, r.path, nil).wantError(t, http.StatusUnauthorized, "unauthenticated")
	}
}
