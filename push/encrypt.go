package push

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Message encryption for Web Push (RFC 8291): one aes128gcm record (RFC 8188) whose key
// comes from an ECDH agreement between a fresh key pair of ours and the browser's
// subscription key, mixed with the subscription's auth secret.

const (
	recordSize = 4096
	saltLen    = 16
	authLen    = 16
	keyLen     = 65 // an uncompressed P-256 point
	headerLen  = saltLen + 4 + 1 + keyLen
	tagLen     = 16
	// maxPlaintext is the most a push message can carry: a push service need accept no body
	// over 4096 bytes, of which the header, the padding delimiter and the tag take 103.
	maxPlaintext = recordSize - headerLen - 1 - tagLen
)

// errTooLarge is returned for a payload over maxPlaintext bytes.
var errTooLarge = fmt.Errorf("push payload over %d bytes", maxPlaintext)

// encrypt seals plaintext for the subscription keys uaPublic (p256dh) and authSecret (auth)
// with a fresh key pair and salt.
func encrypt(plaintext, uaPublic, authSecret []byte) ([]byte, error) {
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	return encryptWith(as, salt, uaPublic, authSecret, plaintext)
}

// encryptWith is encrypt with the application server's key pair as and the salt given: the
// RFC's worked example fixes both.
func encryptWith(as *ecdh.PrivateKey, salt, uaPublic, authSecret, plaintext []byte) ([]byte, error) {
	if len(plaintext) > maxPlaintext {
		return nil, errTooLarge
	}
	if len(salt) != saltLen || len(authSecret) != authLen {
		return nil, errors.New("push encryption: salt and auth secret must be 16 bytes")
	}
	ua, err := ecdh.P256().NewPublicKey(uaPublic)
	if err != nil {
		return nil, fmt.Errorf("push encryption: subscription key: %w", err)
	}
	shared, err := as.ECDH(ua)
	if err != nil {
		return nil, fmt.Errorf("push encryption: %w", err)
	}
	asPublic := as.PublicKey().Bytes()

	// IKM = HKDF(salt = auth secret, ikm = ECDH secret, info = "WebPush: info\0" ‖ ua ‖ as).
	keyInfo := "WebPush: info\x00" + string(uaPublic) + string(asPublic)
	ikm, err := hkdf.Key(sha256.New, shared, authSecret, keyInfo, 32)
	if err != nil {
		return nil, err
	}
	// The aes128gcm content encoding (RFC 8188) then keys the record from IKM and the salt.
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}

	out := make([]byte, headerLen, headerLen+len(plaintext)+1+tagLen)
	copy(out, salt)
	binary.BigEndian.PutUint32(out[saltLen:], recordSize)
	out[saltLen+4] = keyLen
	copy(out[saltLen+5:], asPublic)
	record := append(append(make([]byte, 0, len(plaintext)+1), plaintext...), 0x02) // 2: the last record, no padding
	return gcm.Seal(out, nonce, record, nil), nil
}
