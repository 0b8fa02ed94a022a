package push

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

func unb64(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// RFC 8291 section 5 (and appendix A): the example's keys and salt must give the example's
// message, byte for byte.
func TestEncryptMatchesRFC8291Example(t *testing.T) {
	as, err := ecdh.P256().NewPrivateKey(unb64(t, "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.RawURLEncoding.EncodeToString(as.PublicKey().Bytes()); got != "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8" {
		t.Fatalf("application server public key %s", got)
	}
	uaPublic := unb64(t, "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4")
	auth := unb64(t, "BTBZMqHH6r4Tts7J_aSIgg")
	salt := unb64(t, "DGv6ra1nlYgDCS1FRnbzlw")
	got, err := encryptWith(as, salt, uaPublic, auth, []byte("When I grow up, I want to be a watermelon"))
	if err != nil {
		t.Fatal(err)
	}
	const want = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
	if enc := base64.RawURLEncoding.EncodeToString(got); enc != want {
		t.Fatalf("encrypted message\n got %s\nwant %s", enc, want)
	}

	// And the browser of the example reads it back with its private key.
	ua, err := ecdh.P256().NewPrivateKey(unb64(t, "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := decryptPush(ua, auth, got)
	if err != nil || string(plain) != "When I grow up, I want to be a watermelon" {
		t.Fatalf("decrypted %q, %v", plain, err)
	}
}

func TestEncryptRoundTripAndLimits(t *testing.T) {
	ua, auth := browserKeys(t)
	msg := bytes.Repeat([]byte("x"), maxPlaintext)
	a, err := encrypt(msg, ua.PublicKey().Bytes(), auth)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != recordSize {
		t.Fatalf("a full message is %d bytes, want %d", len(a), recordSize)
	}
	if plain, err := decryptPush(ua, auth, a); err != nil || !bytes.Equal(plain, msg) {
		t.Fatalf("round trip: %v", err)
	}
	b, _ := encrypt(msg, ua.PublicKey().Bytes(), auth)
	if bytes.Equal(a[:headerLen], b[:headerLen]) {
		t.Fatal("two messages share salt and key")
	}
	if _, err := encrypt(append(msg, 'x'), ua.PublicKey().Bytes(), auth); !errors.Is(err, errTooLarge) {
		t.Fatalf("one byte too many: %v", err)
	}
	if _, err := encrypt([]byte("hi"), []byte{4, 1, 2}, auth); err == nil {
		t.Fatal("a bad subscription key was accepted")
	}
	other, _ := browserKeys(t)
	if _, err := decryptPush(other, auth, a); err == nil {
		t.Fatal("another browser decrypted the message")
	}
}

// browserKeys makes what a browser keeps for a subscription: its key pair and auth secret.
func browserKeys(tb testing.TB) (*ecdh.PrivateKey, []byte) {
	tb.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	return k, auth
}

// decryptPush is the browser's side of RFC 8291, written from the RFC independently of
// encryptWith's structure: parse the header, derive the keys, open the one record.
func decryptPush(ua *ecdh.PrivateKey, auth, msg []byte) ([]byte, error) {
	if len(msg) < 21 {
		return nil, errors.New("short message")
	}
	salt, rs, idlen := msg[:16], binary.BigEndian.Uint32(msg[16:20]), int(msg[20])
	if rs != 4096 || idlen != 65 || len(msg) < 21+idlen+17 {
		return nil, fmt.Errorf("header rs=%d idlen=%d len=%d", rs, idlen, len(msg))
	}
	asPub, err := ecdh.P256().NewPublicKey(msg[21 : 21+idlen])
	if err != nil {
		return nil, err
	}
	secret, err := ua.ECDH(asPub)
	if err != nil {
		return nil, err
	}
	info := append(append([]byte("WebPush: info\x00"), ua.PublicKey().Bytes()...), asPub.Bytes()...)
	prkKey, _ := hkdf.Extract(sha256.New, secret, auth)
	ikm, _ := hkdf.Expand(sha256.New, prkKey, string(info), 32)
	prk, _ := hkdf.Extract(sha256.New, ikm, salt)
	cek, _ := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	nonce, _ := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	block, _ := aes.NewCipher(cek)
	gcm, _ := cipher.NewGCM(block)
	record, err := gcm.Open(nil, nonce, msg[21+idlen:], nil)
	if err != nil {
		return nil, err
	}
	end := bytes.LastIndexFunc(record, func(r rune) bool { return r != 0 })
	if end < 0 || record[end] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return record[:end], nil
}
