package inmem

import (
	"context"
	"sync"
	"time"

	"github.com/plop-chat/plop"
)

var _ plop.Limiter = (*Limiter)(nil)

// sweepEvery is how often the janitor looks for idle keys.
const sweepEvery = time.Minute

// Limiter is the in-process plop.Limiter. It applies GCRA (the generic cell rate algorithm,
// the arithmetic form of a token bucket): a key may spend `limit` events at once, after which
// capacity comes back steadily, one event every window/limit, so that a key that is always
// busy gets exactly `limit` events per window. It keeps one number per key, the theoretical
// arrival time (TAT) of the key's next event, and refused events are not counted.
//
// Because the state of a key whose TAT has passed is the same as no state at all, the
// janitor drops such keys without changing any answer. NewLimiter starts the janitor; Close
// stops it.
type Limiter struct {
	now   func() time.Time
	epoch time.Time // TATs are offsets from it, so that a monotonic clock reading is used

	shards [numShards]limiterShard

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type limiterShard struct {
	mu  sync.Mutex
	tat map[string]time.Duration // offset from epoch
}

// NewLimiter returns a Limiter on the system clock and starts its janitor.
func NewLimiter() *Limiter { return NewLimiterClock(time.Now) }

// NewLimiterClock returns a Limiter that reads the time from now, for tests, and starts its
// janitor.
func NewLimiterClock(now func() time.Time) *Limiter {
	l := &Limiter{
		now:   now,
		epoch: now(),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	for i := range l.shards {
		l.shards[i].tat = make(map[string]time.Duration)
	}
	go l.janitor()
	return l
}

// Allow counts one event for key under the rate limit per window and reports whether it is
// allowed. When it is not, retryAfter is exactly the time until one more event fits, at most
// window/limit. A limit or window that is not positive is an invalid_argument error.
func (l *Limiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	if limit <= 0 || window <= 0 {
		return false, 0, plop.Errorf(plop.EInvalid, "rate limit %d per %v: limit and window must be positive", limit, window)
	}
	interval := max(window/time.Duration(limit), 1) // the steady spacing of events
	burst := interval * time.Duration(limit)        // window, rounded down to a multiple of interval
	now := l.now().Sub(l.epoch)

	sh := &l.shards[shardOf(key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	tat, ok := sh.tat[key]
	if !ok || tat < now {
		tat = now
	}
	next := tat + interval
	// The event fits when, after it, the key is no more than one window ahead of now.
	if allowAt := next - burst; now < allowAt {
		return false, allowAt - now, nil
	}
	sh.tat[key] = next
	return true, 0, nil
}

// Close stops the janitor and waits for it. The Limiter still answers afterwards, but no
// longer forgets idle keys. Closing twice is harmless.
func (l *Limiter) Close() error {
	l.closeOnce.Do(func() { close(l.stop) })
	<-l.done
	return nil
}

func (l *Limiter) janitor() {
	defer close(l.done)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.sweep()
		}
	}
}

// sweep drops every key whose TAT has passed: such a key has its whole limit available again,
// just as an unknown key does.
func (l *Limiter) sweep() {
	now := l.now().Sub(l.epoch)
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for k, tat := range sh.tat {
			if tat <= now {
				delete(sh.tat, k)
			}
		}
		sh.mu.Unlock()
	}
}

// keys returns the number of keys the limiter remembers.
func (l *Limiter) keys() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.tat)
		sh.mu.Unlock()
	}
	return n
}
