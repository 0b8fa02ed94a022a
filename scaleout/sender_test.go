package scaleout

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/client"
)

// redial dials u through nginx until it succeeds or ctx ends, backing off up to 500 ms.
// Failures are counted by error code in errs.
func (c *cluster) redial(ctx context.Context, u *user, errs *codeCounts) (*client.STOMPConn, error) {
	backoff := 20 * time.Millisecond
	for {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		conn, err := client.DialSTOMP(dctx, c.WSURL(), u.Tokens.AccessToken)
		cancel()
		if err == nil {
			return conn, nil
		}
		errs.add(err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("redial %s: %w (last error: %v)", u.Name, ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// codeCounts counts failures by plop error code ("closed" for a dropped connection).
type codeCounts struct {
	mu sync.Mutex
	m  map[string]int
}

func (cc *codeCounts) add(err error) {
	code := plop.ErrorCode(err)
	var se *client.STOMPError
	var ce *client.Error
	switch {
	case errors.As(err, &se), errors.As(err, &ce):
	case errors.Is(err, client.ErrSTOMPClosed):
		code = "closed"
	case errors.Is(err, context.DeadlineExceeded):
		code = "timeout"
	default:
		code = "network" // the client's own dial or HTTP failure, not a server answer
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil {
		cc.m = map[string]int{}
	}
	cc.m[code]++
}

func (cc *codeCounts) String() string {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return fmt.Sprint(cc.m)
}

// sender sends numbered messages to a room at a steady pace over STOMP, each with a
// receipt. When the connection drops it redials through nginx and sends the same message
// again with the same client_msg_id, until a RECEIPT says it is stored.
type sender struct {
	c     *cluster
	u     *user
	room  string
	every time.Duration
	max   int // messages to send; 0: until stopped

	acked      atomic.Int64 // messages acknowledged so far
	reconnects atomic.Int64
	errs       codeCounts

	mu      sync.Mutex
	receipt map[string]int64 // client_msg_id → seq of its RECEIPT
	pending string           // client_msg_id sent but not acknowledged when the run ended
}

func newSender(c *cluster, u *user, room string, every time.Duration, max int) *sender {
	return &sender{c: c, u: u, room: room, every: every, max: max, receipt: map[string]int64{}}
}

// run sends until max messages are acknowledged, stop is closed or ctx ends. conn is the
// first connection; run closes whichever it holds at the end.
func (s *sender) run(ctx context.Context, conn *client.STOMPConn, stop <-chan struct{}) error {
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	for i := 1; s.max == 0 || i <= s.max; i++ {
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		cid := fmt.Sprintf("%s-%05d", s.u.Name, i)
		in := app.MessageInput{Body: fmt.Sprintf("message %d from %s", i, s.u.Name), ClientMsgID: cid}
		for {
			if conn == nil {
				var err error
				if conn, err = s.c.redial(ctx, s.u, &s.errs); err != nil {
					s.setPending(cid)
					return err
				}
				s.reconnects.Add(1)
			}
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			r, err := conn.SendMessage(sctx, s.room, in)
			cancel()
			if err == nil {
				s.mu.Lock()
				s.receipt[cid] = r.Seq
				s.mu.Unlock()
				s.acked.Add(1)
				break
			}
			s.errs.add(err)
			// Unacknowledged: drop this connection (an ERROR has closed it already) and
			// retry on a new one with the same client_msg_id.
			conn.Close()
			conn = nil
			if ctx.Err() != nil {
				s.setPending(cid)
				return ctx.Err()
			}
		}
	}
	return nil
}

func (s *sender) setPending(cid string) {
	s.mu.Lock()
	s.pending = cid
	s.mu.Unlock()
}
