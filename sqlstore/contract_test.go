package sqlstore

import (
	"testing"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/internal/contract"
)

// The behaviour suites that every SessionStore and CodeStore passes, Redis and memory ones
// alike, run here on each database. One database serves all the subtests of a suite: the
// suites use fresh ids and e-mail addresses.

func TestSessionStoreContract(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		contract.TestSessionStore(t, func(*testing.T) plop.SessionStore { return db })
	})
}

func TestCodeStoreContract(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		contract.TestCodeStore(t, func(*testing.T) plop.CodeStore { return db })
	})
}
