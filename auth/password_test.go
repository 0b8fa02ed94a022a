package auth

import (
	"strings"
	"testing"
	"time"
)

// fastArgon2 keeps the tests quick; the default parameters are exercised once.
var fastArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestPasswordRoundTrip(t *testing.T) {
	for _, pw := range []Passwords{{}, {Params: fastArgon2}} {
		phc, err := pw.Hash("correct horse battery staple")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(phc, "$argon2id$v=19$m=") {
			t.Fatalf("hash %q is not an argon2id PHC string", phc)
		}
		ok, err := pw.Verify("correct horse battery staple", phc)
		if err != nil || !ok {
			t.Fatalf("Verify(right password) = %v, %v; want true", ok, err)
		}
		ok, err = pw.Verify("correct horse battery stapler", phc)
		if err != nil || ok {
			t.Fatalf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
		}
	}
}

func TestPasswordHashesAreSalted(t *testing.T) {
	pw := Passwords{Params: fastArgon2}
	a, _ := pw.Hash("same")
	b, _ := pw.Hash("same")
	if a == b {
		t.Fatal("two hashes of the same password are equal: no salt")
	}
}

func TestPasswordParamsReadFromHash(t *testing.T) {
	old, err := Passwords{Params: fastArgon2}.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	// A server now configured with the defaults still accepts hashes made with old parameters.
	ok, err := Passwords{}.Verify("pw", old)
	if err != nil || !ok {
		t.Fatalf("Verify with other configured params = %v, %v; want true", ok, err)
	}
}

func TestPasswordMalformedHash(t *testing.T) {
	pw := Passwords{Params: fastArgon2}
	good, _ := pw.Hash("pw")
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for name, phc := range map[string]string{
		"empty":          "",
		"plain text":     "pw",
		"bcrypt":         "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":        "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"old version":    "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"no version":     "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"huge memory":    "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key,
		"zero time":      "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"zero threads":   "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"params garbage": "$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + key,
		"bad salt":       "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key,
		"bad hash":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "=",
		"short hash":     "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA",
		"extra field":    good + "$x",
	} {
		t.Run(name, func(t *testing.T) {
			ok, err := pw.Verify("pw", phc)
			if err == nil || ok {
				t.Fatalf("Verify(%q) = %v, %v; want an error", phc, ok, err)
			}
		})
	}
}

// TestDummyVerifyTakesAsLong guards against DummyVerify becoming a no-op, which would let an
// attacker tell unknown e-mail addresses from known ones by response time. The bound is loose
// (a tenth) so that a busy machine does not make it flaky.
func TestDummyVerifyTakesAsLong(t *testing.T) {
	pw := Passwords{}
	phc, err := pw.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	fastest := func(f func()) time.Duration {
		best := time.Duration(1<<63 - 1)
		for range 3 {
			start := time.Now()
			f()
			best = min(best, time.Since(start))
		}
		return best
	}
	verify := fastest(func() { pw.Verify("guess", phc) })
	dummy := fastest(func() { pw.DummyVerify("guess") })
	if dummy < verify/10 {
		t.Fatalf("DummyVerify took %v, Verify %v: an unknown e-mail answers visibly faster", dummy, verify)
	}
}

func BenchmarkPasswordHash(b *testing.B) {
	pw := Passwords{}
	for b.Loop() {
		if _, err := pw.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
