package inmem_test

import (
	"testing"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/inmem"
	"github.com/plop-chat/plop/internal/contract"
)

func TestBrokerContract(t *testing.T) {
	contract.TestBroker(t, func(t *testing.T) plop.Broker { return inmem.NewBroker() })
}

func TestPresenceContract(t *testing.T) {
	contract.TestPresence(t, func(t *testing.T) plop.PresenceStore { return inmem.NewPresence() })
}

func TestLimiterContract(t *testing.T) {
	contract.TestLimiter(t, func(t *testing.T) plop.Limiter {
		l := inmem.NewLimiter()
		t.Cleanup(func() { l.Close() })
		return l
	})
}
