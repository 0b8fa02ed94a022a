package push

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// VAPID is the application server's key pair of RFC 8292: browsers subscribe with its public
// key (the applicationServerKey), and every push carries a JWT signed with its private key.
// Keep the key file: a new key invalidates every existing browser subscription.
type VAPID struct {
	key *ecdsa.PrivateKey
	pub string
}

// vapidLifetime is how long a VAPID JWT is valid; RFC 8292 allows at most 24 hours.
const vapidLifetime = 12 * time.Hour

// LoadOrCreateVAPID reads the P-256 private key in the PEM file at path (PKCS #8 or SEC 1),
// or creates one there (mode 0600, its directory 0700) when the file does not exist.
func LoadOrCreateVAPID(path string) (*VAPID, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createVAPID(path)
	}
	if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("vapid key %s: not PEM", path)
	}
	var key any
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("vapid key %s: %w", path, err)
	}
	ek, ok := key.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("vapid key %s: want a P-256 EC key", path)
	}
	return newVAPID(ek)
}

// createVAPID makes a key and writes it to path, unless another process got there first, in
// which case its key wins.
func createVAPID(path string) (*VAPID, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".vapid-*")
	if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	// A hard link publishes the whole file, and fails if a key is already there.
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return LoadOrCreateVAPID(path)
	} else if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	return newVAPID(key)
}

func newVAPID(key *ecdsa.PrivateKey) (*VAPID, error) {
	pub, err := key.PublicKey.ECDH()
	if err != nil {
		return nil, fmt.Errorf("vapid key: %w", err)
	}
	return &VAPID{key: key, pub: base64.RawURLEncoding.EncodeToString(pub.Bytes())}, nil
}

// PublicKey returns the public key as browsers take it for applicationServerKey: the
// uncompressed P-256 point, base64url without padding.
func (v *VAPID) PublicKey() string { return v.pub }

// authorization returns the Authorization header value for a push to the push service at
// origin (scheme://host), valid from now for vapidLifetime.
func (v *VAPID) authorization(origin, subject string, now time.Time) (string, error) {
	claims := jwt.MapClaims{"aud": origin, "exp": now.Add(vapidLifetime).Unix()}
	if subject != "" {
		claims["sub"] = subject
	}
	t, err := jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(v.key)
	if err != nil {
		return "", fmt.Errorf("sign vapid token: %w", err)
	}
	return "vapid t=" + t + ", k=" + v.pub, nil
}
