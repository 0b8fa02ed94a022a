// Package contract holds behaviour suites that every implementation of a plop interface must
// pass, whatever its backend: the in-process ones in package inmem and the Redis ones run the
// very same tests. Each suite is an ordinary function taking a constructor; call it from the
// implementation's own test:
//
//	func TestBroker(t *testing.T) {
//		contract.TestBroker(t, func(t *testing.T) plop.Broker { return inmem.NewBroker() })
//	}
//
// The constructor is called once per subtest and may register cleanups on its t. Suites use
// fresh random keys and user ids, so a backend shared between runs (one Redis) is fine.
package contract

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// waitTimeout bounds every wait for an asynchronous effect.
const waitTimeout = 5 * time.Second

// waitFor polls cond until it holds, failing tb with what when it still does not after
// waitTimeout.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// newID returns a fresh id with a readable prefix.
func newID(prefix string) string { return prefix + "-" + uuid.NewString() }
