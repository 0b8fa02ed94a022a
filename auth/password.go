package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the cost parameters of Argon2id.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultArgon2 follows the OWASP minimum for Argon2id (19 MiB, 2 passes, 1 thread).
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds accepted when reading a stored hash, so that a corrupt or hostile PHC string cannot
// make Verify allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 128
)

// argonVersion is the only Argon2 version accepted, 0x13.
const argonVersion = argon2.Version

// Passwords hashes and verifies passwords with Argon2id; the zero value uses DefaultArgon2.
type Passwords struct{ Params Argon2Params }

func (p Passwords) params() Argon2Params {
	if p.Params == (Argon2Params{}) {
		return DefaultArgon2
	}
	return p.Params
}

// Hash returns the PHC string of password:
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<threads>$<salt>$<hash> (unpadded standard base64).
func (p Passwords) Hash(password string) (string, error) {
	pr := p.params()
	if err := pr.validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	salt := make([]byte, pr.SaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, pr.Time, pr.Memory, pr.Threads, pr.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argonVersion, pr.Memory, pr.Time, pr.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether password matches the PHC string phc, comparing in constant time. The
// cost parameters are read from phc, so hashes made with older parameters keep working. A
// malformed phc is an error (not a mismatch).
func (p Passwords) Verify(password, phc string) (bool, error) {
	pr, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	got := argon2.IDKey([]byte(password), salt, pr.Time, pr.Memory, pr.Threads, pr.KeyLen)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummySalt is the fixed salt DummyVerify hashes with; its value does not matter.
var dummySalt = make([]byte, 16)

// DummyVerify burns the same time as Verify of a hash made with p's parameters, for a login on
// an unknown e-mail, so that response times do not reveal which addresses have accounts.
func (p Passwords) DummyVerify(password string) {
	pr := p.params()
	if pr.validate() != nil {
		pr = DefaultArgon2
	}
	key := argon2.IDKey([]byte(password), dummySalt[:min(int(pr.SaltLen), len(dummySalt))], pr.Time, pr.Memory, pr.Threads, pr.KeyLen)
	subtle.ConstantTimeCompare(key, key)
}

func (pr Argon2Params) validate() error {
	switch {
	case pr.Memory < 8*uint32(pr.Threads) || pr.Memory > maxMemoryKiB:
		return fmt.Errorf("argon2 memory %d KiB out of range", pr.Memory)
	case pr.Time < 1 || pr.Time > maxTime:
		return fmt.Errorf("argon2 time %d out of range", pr.Time)
	case pr.Threads < 1:
		return errors.New("argon2 threads must be at least 1")
	case pr.SaltLen < minSaltLen || pr.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2 salt length %d out of range", pr.SaltLen)
	case pr.KeyLen < minKeyLen || pr.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2 key length %d out of range", pr.KeyLen)
	}
	return nil
}

// parsePHC reads $argon2id$v=19$m=..,t=..,p=..$salt$hash.
func parsePHC(phc string) (pr Argon2Params, salt, key []byte, err error) {
	bad := func(why string) (Argon2Params, []byte, []byte, error) {
		return Argon2Params{}, nil, nil, fmt.Errorf("malformed argon2id hash: %s", why)
	}
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want 5 $-separated fields")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || fmt.Sprintf("v=%d", v) != parts[2] {
		return bad("bad version field")
	}
	if v != argonVersion {
		return bad(fmt.Sprintf("unsupported version %d", v))
	}
	var m, t, p uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil ||
		fmt.Sprintf("m=%d,t=%d,p=%d", m, t, p) != parts[3] {
		return bad("bad parameter field")
	}
	if p > 255 {
		return bad("too many threads")
	}
	if salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil {
		return bad("bad salt encoding")
	}
	if key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil {
		return bad("bad hash encoding")
	}
	pr = Argon2Params{Memory: m, Time: t, Threads: uint8(p), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if err := pr.validate(); err != nil {
		return bad(err.Error())
	}
	return pr, salt, key, nil
}
