package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plop-chat/plop"
)

func mustKey(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

var t0 = time.Date(2026, 11, 25, 19, 37, 0, 0, time.UTC)

func mustIssue(tb testing.TB, tk *Tokens, now time.Time) string {
	tb.Helper()
	s, _, err := tk.Issue("user-1", "session-1", now)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestTokensRoundTrip(t *testing.T) {
	tk := NewTokens(NewKeySet(mustKey(t)), "plop", "plop-api", 15*time.Minute)
	now := t0.Add(123 * time.Millisecond)
	s, exp, err := tk.Issue("user-1", "session-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(15 * time.Minute); !exp.Equal(want) {
		t.Fatalf("expiresAt = %v, want %v", exp, want)
	}
	c, err := tk.Verify(s, now.Add(14*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{UserID: "user-1", SessionID: "session-1", ExpiresAt: exp}
	if c != want {
		t.Fatalf("claims = %+v, want %+v", c, want)
	}
	tok, _, err := jwt.NewParser().ParseUnverified(s, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header["alg"] != "EdDSA" || tok.Header["kid"] != tk.keys.KeyID() {
		t.Fatalf("header = %v, want alg EdDSA and kid %s", tok.Header, tk.keys.KeyID())
	}
	mc := tok.Claims.(jwt.MapClaims)
	for _, k := range []string{"iss", "aud", "exp", "iat", "sub", "sid"} {
		if _, ok := mc[k]; !ok {
			t.Errorf("claim %s missing from %v", k, mc)
		}
	}
}

func TestTokensRejectForgeries(t *testing.T) {
	key := mustKey(t)
	ks := NewKeySet(key)
	tk := NewTokens(ks, "plop", "plop-api", 15*time.Minute)
	now := t0
	kid := ks.KeyID()
	pub := key.Public().(ed25519.PublicKey)
	valid := mustIssue(t, tk, now)

	claims := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": "plop", "aud": "plop-api", "sub": "user-1", "sid": "session-1",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	sign := func(m jwt.SigningMethod, c jwt.MapClaims, kid string, k any) string {
		t.Helper()
		tok := jwt.NewWithClaims(m, c)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	other := mustKey(t)
	noExp := claims()
	delete(noExp, "exp")
	noSid := claims()
	delete(noSid, "sid")
	noSub := claims()
	delete(noSub, "sub")
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(
		[]byte(strings.Replace(string(payload), `"user-1"`, `"user-2"`, 1))) + "." + parts[2]
	if tampered == valid {
		t.Fatal("tampering changed nothing")
	}

	for name, s := range map[string]string{
		"empty":                      "",
		"garbage":                    "not.a.token",
		"other key, our kid":         sign(jwt.SigningMethodEdDSA, claims(), kid, other),
		"unknown kid":                sign(jwt.SigningMethodEdDSA, claims(), KeyID(other.Public().(ed25519.PublicKey)), other),
		"no kid":                     sign(jwt.SigningMethodEdDSA, claims(), "", key),
		"alg none":                   sign(jwt.SigningMethodNone, claims(), kid, jwt.UnsafeAllowNoneSignatureType),
		"HS256 with public key":      sign(jwt.SigningMethodHS256, claims(), kid, []byte(pub)),
		"expired":                    mustIssue(t, tk, now.Add(-16*time.Minute)),
		"wrong issuer":               mustIssue(t, NewTokens(ks, "evil", "plop-api", time.Hour), now),
		"wrong audience":             mustIssue(t, NewTokens(ks, "plop", "other-api", time.Hour), now),
		"missing exp":                sign(jwt.SigningMethodEdDSA, noExp, kid, key),
		"missing sid":                sign(jwt.SigningMethodEdDSA, noSid, kid, key),
		"missing sub":                sign(jwt.SigningMethodEdDSA, noSub, kid, key),
		"tampered payload":           tampered,
		"signature stripped":         parts[0] + "." + parts[1] + ".",
		"valid token with extra dot": valid + ".",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := tk.Verify(s, now)
			var pe *plop.Error
			if !errors.As(err, &pe) || pe.Code != plop.EUnauthenticated {
				t.Fatalf("Verify = %+v, %v; want an unauthenticated *plop.Error", c, err)
			}
		})
	}
	// The control: the untouched token is accepted, so the rejections above are not vacuous.
	if _, err := tk.Verify(valid, now); err != nil {
		t.Fatalf("valid token rejected: %v", err)
	}
}

func TestTokensExpireExactly(t *testing.T) {
	tk := NewTokens(NewKeySet(mustKey(t)), "plop", "plop-api", time.Minute)
	s, exp, _ := tk.Issue("u", "s", t0)
	if _, err := tk.Verify(s, exp.Add(-time.Second)); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	_, err := tk.Verify(s, exp.Add(time.Second))
	if plop.ErrorCode(err) != plop.EUnauthenticated || !strings.Contains(plop.ErrorMessage(err), "expired") {
		t.Fatalf("a second after expiry: %v, want unauthenticated \"expired\"", err)
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey, newKey := mustKey(t), mustKey(t)
	before := NewTokens(NewKeySet(oldKey), "plop", "plop-api", time.Hour)
	after := NewTokens(NewKeySet(newKey, oldKey), "plop", "plop-api", time.Hour)
	dropped := NewTokens(NewKeySet(newKey), "plop", "plop-api", time.Hour)

	oldTok := mustIssue(t, before, t0)
	if _, err := after.Verify(oldTok, t0); err != nil {
		t.Fatalf("token of the old key rejected after rotation: %v", err)
	}
	newTok := mustIssue(t, after, t0)
	if _, err := after.Verify(newTok, t0); err != nil {
		t.Fatalf("token of the new key rejected: %v", err)
	}
	if _, err := before.Verify(newTok, t0); err == nil {
		t.Fatal("new key's token accepted by a node that only knows the old key")
	}
	if _, err := dropped.Verify(oldTok, t0); err == nil {
		t.Fatal("old key's token accepted after the old key was dropped")
	}
}

func BenchmarkTokensIssue(b *testing.B) {
	tk := NewTokens(NewKeySet(mustKey(b)), "plop", "plop-api", time.Hour)
	for b.Loop() {
		if _, _, err := tk.Issue("0190b6f4-7c1e-7000-8000-000000000001", "0190b6f4-7c1e-7000-8000-000000000002", t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTokensVerify(b *testing.B) {
	tk := NewTokens(NewKeySet(mustKey(b)), "plop", "plop-api", time.Hour)
	s := mustIssue(b, tk, t0)
	for b.Loop() {
		if _, err := tk.Verify(s, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerifiedTokenCacheKeepsExpiry checks that a token verified once (and so cached) is
// still refused once it expires, and that a forgery of a cached token's payload is not
// mistaken for it.
func TestVerifiedTokenCacheKeepsExpiry(t *testing.T) {
	tk := NewTokens(NewKeySet(mustKey(t)), "plop", "plop", time.Minute)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tok, _, err := tk.Issue("u1", "s1", now)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second call is answered from the cache
		c, err := tk.Verify(tok, now.Add(30*time.Second))
		if err != nil || c.UserID != "u1" {
			t.Fatalf("fresh token: %+v, %v", c, err)
		}
	}
	if _, err := tk.Verify(tok, now.Add(time.Minute)); err == nil {
		t.Fatal("expired token accepted from the cache")
	}
	if _, err := tk.Verify(tok+"x", now); err == nil {
		t.Fatal("altered token accepted")
	}
}
