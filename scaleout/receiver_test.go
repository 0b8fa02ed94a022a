package scaleout

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
)

// receiver follows a room as a client would: subscribed to its topic, it keeps the
// messages by seq, and fills any gap from history, after=<highest seq it holds without a
// gap>, on every reconnection, whenever a seq skips ahead, and once more at the end.
type receiver struct {
	c    *cluster
	u    *user
	room string

	live, filled, liveDups, reconnects atomic.Int64
	errs                               codeCounts

	mu       sync.Mutex
	got      map[int64]string // seq → message id
	liveSeen map[int64]bool   // seqs delivered live
	hw       int64            // every seq up to hw is in got
}

func newReceiver(c *cluster, u *user, room string) *receiver {
	return &receiver{c: c, u: u, room: room, got: map[int64]string{}, liveSeen: map[int64]bool{}}
}

// run follows the room until stop is closed, then fills from history a last time.
func (r *receiver) run(ctx context.Context, conn *client.STOMPConn, stop <-chan struct{}) error {
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for {
		if conn == nil {
			var err error
			if conn, err = r.c.redial(ctx, r.u, &r.errs); err != nil {
				return err
			}
			r.reconnects.Add(1)
		}
		sub, err := conn.Subscribe(ctx, client.RoomTopic(r.room))
		if err != nil {
			r.errs.add(err)
			conn.Close()
			conn = nil
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		// Subscribed first, then filled: nothing can fall between the two.
		if err := r.fill(ctx); err != nil {
			return err
		}
		if done, err := r.follow(ctx, sub, stop); done || err != nil {
			if err == nil {
				err = r.fill(ctx)
			}
			return err
		}
		conn.Close() // it ended; redial
		conn = nil
	}
}

// follow reads live events until stop (done true) or the connection ends (done false).
func (r *receiver) follow(ctx context.Context, sub *client.Subscription, stop <-chan struct{}) (done bool, err error) {
	for {
		select {
		case <-stop:
			return true, nil
		case <-ctx.Done():
			return true, ctx.Err()
		case ev, ok := <-sub.C:
			if !ok {
				return false, nil
			}
			if ev.Type != plop.EventMessageCreated {
				continue
			}
			var b eventBody
			if err := ev.Decode(&b); err != nil {
				return true, fmt.Errorf("%s: decode %s: %w", r.u.Name, ev.Body, err)
			}
			if r.add(b.Message, true) {
				if err := r.fill(ctx); err != nil {
					return true, err
				}
			}
		}
	}
}

// add records m and reports whether a gap opened below it.
func (r *receiver) add(m plop.Message, live bool) (gap bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if live {
		// Events of different senders may arrive out of seq order, so a message filled from
		// history may arrive live afterwards; the same message arriving live twice may not.
		if r.liveSeen[m.Seq] {
			r.liveDups.Add(1)
		}
		r.liveSeen[m.Seq] = true
	}
	if _, dup := r.got[m.Seq]; dup {
		return false
	}
	r.got[m.Seq] = m.ID
	if live {
		r.live.Add(1)
	} else {
		r.filled.Add(1)
	}
	for {
		if _, ok := r.got[r.hw+1]; !ok {
			break
		}
		r.hw++
	}
	return m.Seq > r.hw+1
}

// fill reads the history after the high-water mark until the end, retrying through
// outages until ctx ends.
func (r *receiver) fill(ctx context.Context) error {
	backoff := 20 * time.Millisecond
	for {
		r.mu.Lock()
		after := r.hw
		r.mu.Unlock()
		page, err := historyAfter(ctx, r.u.API, r.room, after)
		if err != nil {
			r.errs.add(err)
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s fills from history: %w (last error: %v)", r.u.Name, ctx.Err(), err)
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 500*time.Millisecond)
			continue
		}
		for _, m := range page {
			r.add(m, false)
		}
		if len(page) < plop.MaxPageSize {
			return nil
		}
	}
}

// historyAfter returns the page of messages after seq `after`, oldest first. The API's
// "after" starts past 0 only; the first page is the one before MaxPageSize+1.
func historyAfter(ctx context.Context, api *client.Client, room string, after int64) ([]plop.Message, error) {
	if after == 0 {
		return api.Messages(ctx, room, plop.MaxPageSize+1, 0, plop.MaxPageSize)
	}
	return api.Messages(ctx, room, 0, after, plop.MaxPageSize)
}
