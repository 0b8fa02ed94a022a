package redis

import (
	"context"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/plop-chat/plop"
)

var _ plop.Limiter = (*Limiter)(nil)

// gcraScript applies GCRA to one key in microseconds of the Redis server's clock, so that
// the nodes' clocks do not matter. KEYS[1] holds the key's theoretical arrival time (TAT);
// ARGV[1] is the interval between events, ARGV[2] the limit. It returns 0 when the event is
// allowed and counted, else the microseconds until one more event fits. The key expires
// when its TAT passes, since from then on it is the same as no key at all.
var gcraScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local nxt = tat + interval
local allow_at = nxt - burst
if now < allow_at then
  return allow_at - now
end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000))
return 0
`)

// Limiter is the plop.Limiter of a cluster: every node counts against the same keys in
// Redis. It applies the same GCRA as the in-process limiter: a key may spend `limit` events
// at once, after which capacity comes back one event every window/limit, and refused events
// are not counted. Times are microseconds of the Redis server's clock; a retryAfter is
// exact to the microsecond. One Allow is one round trip running a short Lua script.
type Limiter struct {
	c *Client
}

// NewLimiter returns a Limiter on c. It starts nothing and needs no Close.
func NewLimiter(c *Client) *Limiter { return &Limiter{c: c} }

// Allow counts one event for key under the rate limit per window and reports whether it is
// allowed. When it is not, retryAfter is the time until one more event fits, at most
// window/limit. A limit or window that is not positive is an invalid_argument error; an
// unreachable Redis is an error wrapping plop.ErrUnavailable.
func (l *Limiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	if limit <= 0 || window <= 0 {
		return false, 0, plop.Errorf(plop.EInvalid, "rate limit %d per %v: limit and window must be positive", limit, window)
	}
	interval := max(window.Microseconds()/int64(limit), 1)
	wait, err := gcraScript.Run(ctx, l.c.rdb, []string{l.c.key("rate:", key)},
		strconv.FormatInt(interval, 10), strconv.Itoa(limit)).Int64()
	if err != nil {
		return false, 0, fail("rate limit "+key, err)
	}
	if wait > 0 {
		return false, time.Duration(wait) * time.Microsecond, nil
	}
	return true, 0, nil
}
