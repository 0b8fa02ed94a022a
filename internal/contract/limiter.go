package contract

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

// TestLimiter checks the behaviour every plop.Limiter must have: a fresh key gets `limit`
// events and then a refusal with an honest retryAfter, keys do not share counts, and the
// window slides (capacity comes back with time since the events, not all at once at a fixed
// boundary). Subtests that wait for real time run in parallel.
func TestLimiter(t *testing.T, newLimiter func(t *testing.T) plop.Limiter) {
	t.Run("AllowsLimitThenRefuses", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		key := newID("key")
		const limit, window = 5, time.Minute
		for i := range limit {
			if ok, _ := allow(t, l, key, limit, window); !ok {
				t.Fatalf("event %d of %d refused", i+1, limit)
			}
		}
		for range 3 {
			ok, retry := allow(t, l, key, limit, window)
			if ok {
				t.Fatalf("event %d allowed under a limit of %d per %v", limit+1, limit, window)
			}
			if retry <= 0 || retry > window {
				t.Fatalf("retryAfter = %v, want within (0, %v]", retry, window)
			}
		}
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		a, b := newID("a"), newID("b")
		const limit, window = 2, time.Minute
		for range limit {
			allow(t, l, a, limit, window)
		}
		if ok, _ := allow(t, l, a, limit, window); ok {
			t.Fatalf("key a allowed past its limit")
		}
		for i := range limit {
			if ok, _ := allow(t, l, b, limit, window); !ok {
				t.Fatalf("key b: event %d refused because key a is spent", i+1)
			}
		}
	})

	t.Run("RetryAfterIsHonest", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		key := newID("key")
		const limit, window = 2, 600 * time.Millisecond
		for range limit {
			allow(t, l, key, limit, window)
		}
		ok, retry := allow(t, l, key, limit, window)
		if ok {
			t.Fatal("event past the limit allowed")
		}
		// The behaviour under test is time itself: a caller told to come back after retry
		// is allowed then (a few milliseconds of slack for a backend's clock granularity).
		time.Sleep(retry + 5*time.Millisecond)
		if ok, again := allow(t, l, key, limit, window); !ok {
			t.Fatalf("refused again %v after being told to retry after %v (new retryAfter %v)", retry, retry, again)
		}
	})

	t.Run("WindowSlides", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		key := newID("key")
		const limit, window = 4, 2 * time.Second
		start := time.Now()
		if n := burst(t, l, key, limit, window); n != limit {
			t.Fatalf("a fresh key allowed %d events at once, want %d", n, limit)
		}
		time.Sleep(window / 4)
		n := burst(t, l, key, limit, window)
		last := time.Now()
		// On a badly overloaded machine the quarter window may have become a whole one;
		// then this check says nothing.
		if elapsed := time.Since(start); elapsed < window && n >= limit {
			t.Fatalf("%v after spending the limit of %d per %v, %d more events were allowed: the window did not slide", elapsed, limit, window, n)
		}
		// A full window of rest restores the whole limit.
		time.Sleep(time.Until(last.Add(window + 10*time.Millisecond)))
		if n := burst(t, l, key, limit, window); n != limit {
			t.Fatalf("after a full window of rest %d events were allowed at once, want %d", n, limit)
		}
	})

	t.Run("NoFreshStartAtWindowEnd", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		key := newID("key")
		const limit, window = 4, 2 * time.Second
		start := time.Now()
		allow(t, l, key, limit, window)
		time.Sleep(time.Until(start.Add(window * 3 / 4)))
		late := time.Now()
		if n := burst(t, l, key, limit, window); n < limit-1 {
			t.Fatalf("with 1 event in the window, %d more were allowed, want at least %d", n, limit-1)
		}
		// When the window that began with the first event ends, the recent events still
		// count: a limiter that starts afresh is a fixed window, not a sliding one.
		time.Sleep(time.Until(start.Add(window + 100*time.Millisecond)))
		n := burst(t, l, key, limit, window)
		if since := time.Since(late); since < window/2 && n >= limit {
			t.Fatalf("%v after 3 events, %d events were allowed at once: the count restarted at the window's end", since, n)
		}
	})

	t.Run("LimitsPerCall", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		if n := burst(t, l, newID("one"), 1, time.Minute); n != 1 {
			t.Fatalf("limit 1: %d allowed", n)
		}
		if n := burst(t, l, newID("seven"), 7, time.Hour); n != 7 {
			t.Fatalf("limit 7: %d allowed", n)
		}
	})

	t.Run("ConcurrentCallersShareTheLimit", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		key := newID("key")
		const limit, window = 50, time.Hour
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				for range 20 {
					ok, _, err := l.Allow(context.Background(), key, limit, window)
					if err != nil {
						t.Errorf("allow: %v", err)
						return
					}
					if ok {
						allowed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if n := allowed.Load(); n != limit {
			t.Fatalf("200 concurrent events under a limit of %d: %d allowed", limit, n)
		}
	})

	t.Run("RejectsNonsense", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t)
		for _, c := range []struct {
			limit  int
			window time.Duration
		}{{0, time.Second}, {-1, time.Second}, {1, 0}, {1, -time.Second}} {
			_, _, err := l.Allow(context.Background(), newID("key"), c.limit, c.window)
			if plop.ErrorCode(err) != plop.EInvalid {
				t.Errorf("limit %d per %v: err = %v, want invalid_argument", c.limit, c.window, err)
			}
		}
	})
}

func allow(tb testing.TB, l plop.Limiter, key string, limit int, window time.Duration) (bool, time.Duration) {
	tb.Helper()
	ok, retry, err := l.Allow(context.Background(), key, limit, window)
	if err != nil {
		tb.Fatalf("allow %s: %v", key, err)
	}
	if ok && retry != 0 {
		tb.Fatalf("allowed with retryAfter %v, want 0", retry)
	}
	return ok, retry
}

// burst calls Allow until the first refusal (at most limit+1 times) and returns how many
// events were allowed.
func burst(tb testing.TB, l plop.Limiter, key string, limit int, window time.Duration) int {
	tb.Helper()
	for i := range limit + 1 {
		if ok, _ := allow(tb, l, key, limit, window); !ok {
			return i
		}
	}
	return limit + 1
}
