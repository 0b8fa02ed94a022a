package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/plop-chat/plop"
)

// fail gives err the context of op and, when err says that Redis could not be reached or
// cannot serve now, wraps plop.ErrUnavailable so that the request is answered with a 503.
// A nil err stays nil.
func fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if unavailable(err) {
		return fmt.Errorf("redis %s: %w: %w", op, plop.ErrUnavailable, err)
	}
	return fmt.Errorf("redis %s: %w", op, err)
}

// transientReplies are the server replies that mean "not now" rather than "never".
var transientReplies = []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY", "NOREPLICAS"}

// unavailable reports whether err is a failure to reach or use the server: a network error,
// a timeout, an exhausted or closed pool, or a reply such as LOADING. Replies that say the
// command itself was wrong are not, and neither is the caller giving up (context.Canceled).
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var reply goredis.Error
	if errors.As(err, &reply) {
		msg := reply.Error()
		for _, p := range transientReplies {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	// Everything else that go-redis returns is about the connection: net.Error (refused,
	// reset, timeouts), io.EOF, pool timeouts, a closed client, a deadline.
	return true
}
