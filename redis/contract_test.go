package redis

import (
	"testing"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/internal/contract"
)

func TestBrokerContract(t *testing.T) {
	contract.TestBroker(t, func(t *testing.T) plop.Broker { return NewBroker(mustClient(t)) })
}

func TestPresenceContract(t *testing.T) {
	contract.TestPresence(t, func(t *testing.T) plop.PresenceStore {
		p := NewPresence(mustClient(t), "node-a")
		t.Cleanup(func() { p.Close() })
		return p
	})
}

func TestLimiterContract(t *testing.T) {
	contract.TestLimiter(t, func(t *testing.T) plop.Limiter { return NewLimiter(mustClient(t)) })
}

func TestSessionStoreContract(t *testing.T) {
	contract.TestSessionStore(t, func(t *testing.T) plop.SessionStore { return NewSessionStore(mustClient(t)) })
}

func TestCodeStoreContract(t *testing.T) {
	contract.TestCodeStore(t, func(t *testing.T) plop.CodeStore { return NewCodeStore(mustClient(t)) })
}
