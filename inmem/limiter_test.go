package inmem

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newTestLimiter(tb testing.TB) (*Limiter, *clock) {
	tb.Helper()
	c := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	l := NewLimiterClock(c.Now)
	tb.Cleanup(func() { l.Close() })
	return l, c
}

func mustAllow(tb testing.TB, l *Limiter, key string, limit int, window time.Duration) (bool, time.Duration) {
	tb.Helper()
	ok, retry, err := l.Allow(context.Background(), key, limit, window)
	if err != nil {
		tb.Fatalf("allow: %v", err)
	}
	return ok, retry
}

func TestLimiterRetryAfterIsExact(t *testing.T) {
	l, c := newTestLimiter(t)
	const limit, window = 5, time.Second // one event every 200ms once the burst is spent
	for range limit {
		if ok, _ := mustAllow(t, l, "k", limit, window); !ok {
			t.Fatal("burst refused")
		}
	}
	if ok, retry := mustAllow(t, l, "k", limit, window); ok || retry != 200*time.Millisecond {
		t.Fatalf("after the burst: ok=%v retryAfter=%v, want refused, 200ms", ok, retry)
	}
	c.Advance(150 * time.Millisecond)
	if ok, retry := mustAllow(t, l, "k", limit, window); ok || retry != 50*time.Millisecond {
		t.Fatalf("150ms later: ok=%v retryAfter=%v, want refused, 50ms", ok, retry)
	}
	c.Advance(50 * time.Millisecond)
	if ok, _ := mustAllow(t, l, "k", limit, window); !ok {
		t.Fatal("refused at the announced time")
	}
	// Exactly one event came back, not the whole window.
	if ok, retry := mustAllow(t, l, "k", limit, window); ok || retry != 200*time.Millisecond {
		t.Fatalf("right after: ok=%v retryAfter=%v, want refused, 200ms", ok, retry)
	}
	// A steady caller gets exactly limit events per window.
	allowed := 0
	for range 1000 {
		c.Advance(10 * time.Millisecond) // 10s in all
		if ok, _ := mustAllow(t, l, "k", limit, window); ok {
			allowed++
		}
	}
	if allowed != 50 {
		t.Fatalf("a caller trying every 10ms for 10s got %d events, want 50", allowed)
	}
}

func TestLimiterSweepForgetsOnlyRecoveredKeys(t *testing.T) {
	l, c := newTestLimiter(t)
	mustAllow(t, l, "short", 1, time.Second)
	mustAllow(t, l, "long", 1, time.Hour)
	l.sweep()
	if n := l.keys(); n != 2 {
		t.Fatalf("sweep right away left %d keys, want 2", n)
	}
	c.Advance(time.Second)
	l.sweep()
	if n := l.keys(); n != 1 {
		t.Fatalf("sweep after the short window left %d keys, want 1", n)
	}
	if ok, _ := mustAllow(t, l, "long", 1, time.Hour); ok {
		t.Fatal("the key that was kept lost its count")
	}
}

func TestLimiterCloseStopsJanitor(t *testing.T) {
	l := NewLimiter()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.done:
	default:
		t.Fatal("janitor still running after Close")
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if ok, _ := mustAllow(t, l, "k", 1, time.Second); !ok {
		t.Fatal("a closed limiter stopped answering")
	}
}

// BenchmarkLimiterAllow measures one Allow from many goroutines over many keys.
func BenchmarkLimiterAllow(b *testing.B) {
	l := NewLimiter()
	defer l.Close()
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(ctx, keys[i%len(keys)], 100, time.Minute)
			i++
		}
	})
}
