package push

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// retryPolicy bounds the attempts of one delivery: exponential backoff with jitter between
// tries, or the push service's Retry-After when it gives one.
type retryPolicy struct {
	tries int           // attempts in all, the first included
	base  time.Duration // the first backoff; each next one doubles
	max   time.Duration // the longest single wait; a longer Retry-After ends the tries
}

// defaultRetry gives a delivery four tries over about four seconds: long enough to ride out
// a blip, short enough that a worker is not held up; the caller retries later on
// plop.ErrUnavailable.
var defaultRetry = retryPolicy{tries: 4, base: 500 * time.Millisecond, max: 30 * time.Second}

// attempt is the outcome of one try.
type attempt struct {
	err   error
	retry bool          // err is transient: try again
	after time.Duration // the service's Retry-After, 0 when it gave none
}

// do runs try until it succeeds, fails for good, or the tries or ctx run out, and returns the
// last error.
func (p retryPolicy) do(ctx context.Context, try func(ctx context.Context) attempt) error {
	for i := 1; ; i++ {
		a := try(ctx)
		if a.err == nil || !a.retry || i >= p.tries {
			return a.err
		}
		if a.after > p.max {
			return fmt.Errorf("%w (the service asks to wait %v)", a.err, a.after)
		}
		wait := a.after
		if wait <= 0 {
			wait = p.backoff(i)
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("%w (no time left to retry: %w)", a.err, err)
		}
	}
}

// backoff returns the wait after the n-th failed try: base·2ⁿ⁻¹ capped at max, with the
// upper half jittered so that many senders do not retry in step.
func (p retryPolicy) backoff(n int) time.Duration {
	d := p.base << min(n-1, 20)
	if d > p.max || d <= 0 {
		d = p.max
	}
	half := d / 2
	return half + rand.N(half+1)
}

// sleep waits d, or fails at once when ctx ends first or its deadline is sooner than d.
func sleep(ctx context.Context, d time.Duration) error {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return context.DeadlineExceeded
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date; 0 when absent or
// unreadable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// transient reports whether an HTTP status is worth retrying: throttling and server errors.
func transient(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}
