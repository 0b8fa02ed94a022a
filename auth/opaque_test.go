package auth

import (
	"encoding/base64"
	"encoding/hex"
	"testing"
)

func TestOpaqueToken(t *testing.T) {
	tok, hash := NewOpaqueToken()
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q is not 32 bytes of unpadded base64url (%v)", tok, err)
	}
	if h, err := hex.DecodeString(hash); err != nil || len(h) != 32 {
		t.Fatalf("hash %q is not hex SHA-256", hash)
	}
	if HashOpaqueToken(tok) != hash {
		t.Fatal("HashOpaqueToken(token) differs from the hash returned with it")
	}
	if tok2, hash2 := NewOpaqueToken(); tok2 == tok || hash2 == hash {
		t.Fatal("two opaque tokens are equal")
	}
}

func TestNewCode(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := NewCode()
		if len(c) != 6 {
			t.Fatalf("code %q is not 6 characters", c)
		}
		for _, r := range c {
			if r < '0' || r > '9' {
				t.Fatalf("code %q has a non-digit", c)
			}
		}
		seen[c] = true
	}
	if len(seen) < 900 {
		t.Fatalf("only %d distinct codes in 1000 draws", len(seen))
	}
}

func TestCodeHasher(t *testing.T) {
	h := NewCodeHasher([]byte("0123456789abcdef0123456789abcdef"))
	hash := h.Hash("ann@example.com", "042917")
	if !h.Equal("ann@example.com", "042917", hash) {
		t.Fatal("the right code does not match")
	}
	if !h.Equal("Ann@Example.com", "042917", hash) {
		t.Fatal("the e-mail's case changed the match")
	}
	if h.Equal("ann@example.com", "042918", hash) {
		t.Fatal("a wrong code matches")
	}
	if h.Equal("bob@example.com", "042917", hash) {
		t.Fatal("the code matches for another address")
	}
	if NewCodeHasher([]byte("another secret, another hash....")).Equal("ann@example.com", "042917", hash) {
		t.Fatal("the code matches under another secret")
	}
	if h.Equal("ann@example.com", "042917", "") {
		t.Fatal("an empty hash matches")
	}
}
