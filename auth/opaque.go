package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

// NewOpaqueToken returns a random 256-bit token (unpadded base64url), to hand to the client,
// and its hash (hex SHA-256), to store. Refresh tokens are opaque tokens.
func NewOpaqueToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashOpaqueToken(token)
}

// HashOpaqueToken returns the hex SHA-256 of token, the form in which it is stored. A
// 256-bit random token needs no salt or slow hash.
func HashOpaqueToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

var million = big.NewInt(1_000_000)

// NewCode returns a uniformly random 6-digit code, "000000" to "999999".
func NewCode() string {
	n, err := rand.Int(rand.Reader, million)
	if err != nil {
		panic(fmt.Sprintf("auth: crypto/rand failed: %v", err)) // cannot happen since Go 1.24
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// CodeHasher hashes verification codes with HMAC-SHA256 under a server secret, bound to the
// e-mail address, so that a stolen code table cannot be brute-forced offline (a million
// codes) and a code cannot be replayed for another address.
type CodeHasher struct{ secret []byte }

// NewCodeHasher returns a CodeHasher keyed with secret (32 random bytes, see
// LoadOrCreateSecret).
func NewCodeHasher(secret []byte) CodeHasher {
	return CodeHasher{secret: append([]byte(nil), secret...)}
}

// Hash returns the hex HMAC of code for email. The e-mail is compared case-insensitively.
func (h CodeHasher) Hash(email, code string) string {
	m := hmac.New(sha256.New, h.secret)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// Equal reports, in constant time, whether hash is the hash of code for email.
func (h CodeHasher) Equal(email, code, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(h.Hash(email, code)), []byte(hash)) == 1
}

// SecretLen is the length of the secrets LoadOrCreateSecret reads and writes.
const SecretLen = 32

// LoadOrCreateSecret reads the 32-byte secret at path, or, when the file does not exist,
// creates it with 32 random bytes, mode 0600, in a directory created 0700.
func LoadOrCreateSecret(path string) ([]byte, error) {
	data, err := loadOrCreate(path, func() ([]byte, error) {
		b := make([]byte, SecretLen)
		rand.Read(b)
		return b, nil
	})
	if err != nil {
		return nil, fmt.Errorf("load secret %s: %w", path, err)
	}
	if len(data) != SecretLen {
		return nil, fmt.Errorf("load secret %s: %d bytes, want %d", path, len(data), SecretLen)
	}
	return data, nil
}
