package redis

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestLimiterIsSharedByTheNodes(t *testing.T) {
	prefix := mustClient(t).prefix
	a, b := NewLimiter(mustClientPrefix(t, prefix)), NewLimiter(mustClientPrefix(t, prefix))
	key := "login:" + uuid.NewString()
	ctx := context.Background()
	const limit, window = 3, time.Minute
	for i, l := range []*Limiter{a, b, a} {
		if ok, _, err := l.Allow(ctx, key, limit, window); err != nil || !ok {
			t.Fatalf("event %d: ok=%v err=%v, want allowed", i+1, ok, err)
		}
	}
	for name, l := range map[string]*Limiter{"a": a, "b": b} {
		ok, retry, err := l.Allow(ctx, key, limit, window)
		if err != nil || ok {
			t.Fatalf("node %s after the cluster spent the limit: ok=%v err=%v, want refused", name, ok, err)
		}
		// One event comes back every window/limit = 20s, counted from the first event a
		// moment ago.
		if retry <= 15*time.Second || retry > 20*time.Second {
			t.Fatalf("node %s: retryAfter = %v, want just under 20s", name, retry)
		}
	}
}

func TestLimiterKeyExpiresWhenRecovered(t *testing.T) {
	c := mustClient(t)
	l := NewLimiter(c)
	ctx := context.Background()
	if _, _, err := l.Allow(ctx, "k", 10, time.Second); err != nil {
		t.Fatal(err)
	}
	// After one event of ten per second, the key has recovered in 100ms and expires then
	// (or has already, on a slow machine; PTTL answers -2ns for a missing key and -1ns
	// for a key without TTL).
	ttl, err := c.rdb.PTTL(ctx, c.key("rate:", "k")).Result()
	if err != nil || ttl == -time.Nanosecond || ttl > 100*time.Millisecond {
		t.Fatalf("TTL = %v (%v), want within (0, 100ms]", ttl, err)
	}
}
