package auth

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func assertMode(tb testing.TB, path string, want os.FileMode) {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		tb.Fatalf("%s has mode %v, want %v", path, got, want)
	}
}

func TestLoadOrCreateKeySet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	path := filepath.Join(dir, "jwt.pem")
	ks1, err := LoadOrCreateKeySet(path)
	if err != nil {
		t.Fatal(err)
	}
	assertMode(t, path, 0o600)
	assertMode(t, dir, 0o700)
	if len(ks1.KeyID()) != 16 {
		t.Fatalf("kid %q is not 16 hex characters", ks1.KeyID())
	}
	ks2, err := LoadOrCreateKeySet(path)
	if err != nil {
		t.Fatal(err)
	}
	if ks1.KeyID() != ks2.KeyID() {
		t.Fatalf("re-read key id %s, want %s", ks2.KeyID(), ks1.KeyID())
	}
	// A token issued before a restart is still valid after it.
	s := mustIssue(t, NewTokens(ks1, "plop", "plop-api", time.Hour), t0)
	if _, err := NewTokens(ks2, "plop", "plop-api", time.Hour).Verify(s, t0); err != nil {
		t.Fatalf("token rejected after reloading the key: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("key directory holds %d entries, want only the key (temp file left behind?)", len(entries))
	}
}

func TestLoadKeySetWithRotation(t *testing.T) {
	newKey, oldKey := mustKey(t), mustKey(t)
	var pemData []byte
	for _, k := range []ed25519.PrivateKey{newKey, oldKey} {
		b, err := MarshalKey(k)
		if err != nil {
			t.Fatal(err)
		}
		pemData = append(pemData, b...)
	}
	path := filepath.Join(t.TempDir(), "jwt.pem")
	if err := os.WriteFile(path, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	ks, err := LoadOrCreateKeySet(path)
	if err != nil {
		t.Fatal(err)
	}
	if ks.KeyID() != KeyID(newKey.Public().(ed25519.PublicKey)) {
		t.Fatal("the first key of the file does not sign")
	}
	s := mustIssue(t, NewTokens(NewKeySet(oldKey), "plop", "plop-api", time.Hour), t0)
	if _, err := NewTokens(ks, "plop", "plop-api", time.Hour).Verify(s, t0); err != nil {
		t.Fatalf("second key of the file does not verify: %v", err)
	}
}

func TestLoadKeySetRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwt.pem")
	os.WriteFile(path, []byte("not a key"), 0o600)
	if _, err := LoadOrCreateKeySet(path); err == nil {
		t.Fatal("garbage key file accepted")
	}
	if b, _ := os.ReadFile(path); string(b) != "not a key" {
		t.Fatal("garbage key file was overwritten")
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets", "code.key")
	s1, err := LoadOrCreateSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	assertMode(t, path, 0o600)
	if len(s1) != 32 || bytes.Equal(s1, make([]byte, 32)) {
		t.Fatalf("secret %x is not 32 random bytes", s1)
	}
	s2, err := LoadOrCreateSecret(path)
	if err != nil || !bytes.Equal(s1, s2) {
		t.Fatalf("re-read secret = %x, %v; want %x", s2, err, s1)
	}
	short := filepath.Join(t.TempDir(), "short.key")
	os.WriteFile(short, []byte("too short"), 0o600)
	if _, err := LoadOrCreateSecret(short); err == nil {
		t.Fatal("a 9-byte secret file accepted")
	}
}
