package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
)

// KeySet holds the Ed25519 keys that sign and verify access tokens. The first key signs; every
// key verifies, so a new key can be put first while tokens signed by the old one stay valid
// until they expire. A KeySet is read-only after construction and safe for concurrent use.
type KeySet struct {
	signer  ed25519.PrivateKey
	signKid string
	public  map[string]ed25519.PublicKey
}

// KeyID returns the key id of pub: the first 16 hex characters of the SHA-256 of the key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// NewKeySet returns a key set whose first key signs and whose keys all verify. It panics when
// given no key, a programming error.
func NewKeySet(keys ...ed25519.PrivateKey) *KeySet {
	if len(keys) == 0 {
		panic("auth: NewKeySet needs at least one key")
	}
	ks := &KeySet{signer: keys[0], public: make(map[string]ed25519.PublicKey, len(keys))}
	for _, k := range keys {
		pub := k.Public().(ed25519.PublicKey)
		ks.public[KeyID(pub)] = pub
	}
	ks.signKid = KeyID(keys[0].Public().(ed25519.PublicKey))
	return ks
}

// KeyID returns the key id of the signing key.
func (ks *KeySet) KeyID() string { return ks.signKid }

// PublicKey returns the verifying key with id kid.
func (ks *KeySet) PublicKey(kid string) (ed25519.PublicKey, bool) {
	pub, ok := ks.public[kid]
	return pub, ok
}

// LoadOrCreateKeySet reads the PEM-encoded PKCS#8 Ed25519 private keys at path, or, when the
// file does not exist, generates one key and writes it there with mode 0600 (creating the
// directory with mode 0700). The file may hold several PEM blocks: the first key signs, all
// verify; to rotate, put a new key first and drop the old one after the token lifetime.
func LoadOrCreateKeySet(path string) (*KeySet, error) {
	data, err := loadOrCreate(path, func() ([]byte, error) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		return MarshalKey(priv)
	})
	if err != nil {
		return nil, fmt.Errorf("load signing key %s: %w", path, err)
	}
	keys, err := ParseKeys(data)
	if err != nil {
		return nil, fmt.Errorf("load signing key %s: %w", path, err)
	}
	return NewKeySet(keys...), nil
}

// MarshalKey encodes key as a PEM "PRIVATE KEY" block (PKCS#8).
func MarshalKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKeys decodes the PEM "PRIVATE KEY" blocks of data, in order; each must be an Ed25519
// PKCS#8 key and there must be at least one.
func ParseKeys(data []byte) ([]ed25519.PrivateKey, error) {
	var keys []ed25519.PrivateKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("unexpected PEM block %q, want PRIVATE KEY", block.Type)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKCS#8 key: %w", err)
		}
		ek, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("key is %T, want Ed25519", k)
		}
		keys = append(keys, ek)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM private key found")
	}
	return keys, nil
}
