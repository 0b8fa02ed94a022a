package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/plop-chat/plop"
)

var _ plop.Broker = (*Broker)(nil)

// Defaults of the Broker.
const (
	// defaultHealthCheck is how long the subscription may be silent before it is pinged;
	// a ping left unanswered for as long again means the connection is dead.
	defaultHealthCheck = 5 * time.Second
	// Reconnection attempts back off from minBackoff to maxBackoff.
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// Broker is the plop.Broker of a cluster: Publish sends the event on one Redis pub/sub
// channel, <prefix>events, and every node's Broker delivers what arrives on it to its local
// subscribers.
//
// All the subscribers of one Broker share one subscription, a feed: one connection and one
// receive goroutine that calls every subscriber's deliver in turn, so an event crosses the
// network once per node, not once per subscriber. The first Subscribe starts the feed and
// returns once Redis has confirmed the SUBSCRIBE; when the contexts of all its subscribers
// are done, the feed unsubscribes and its goroutine ends.
//
// The feed survives a lost connection, such as a Redis restart: it reconnects with backoff
// and subscribes again, and events published from then on are delivered again. Events
// published while it was disconnected are lost, as pub/sub does not keep them; clients fill
// such gaps from history. A connection that goes silent is pinged and replaced when the
// ping goes unanswered.
type Broker struct {
	c       *Client
	channel string
	health  time.Duration
	logger  *slog.Logger

	mu   sync.Mutex // guards feed and the subscriber counts of feeds
	feed *feed      // nil when there is no subscriber
}

// BrokerOption configures a Broker.
type BrokerOption func(*Broker)

// BrokerHealthCheck sets how long the subscription may be silent before the Broker pings
// it; a ping unanswered for as long again makes it reconnect. The default is 5 s.
func BrokerHealthCheck(d time.Duration) BrokerOption {
	return func(b *Broker) {
		if d > 0 {
			b.health = d
		}
	}
}

// NewBroker returns a Broker on c. It connects on the first Subscribe.
func NewBroker(c *Client, opts ...BrokerOption) *Broker {
	b := &Broker{c: c, channel: c.key("events"), health: defaultHealthCheck}
	for _, o := range opts {
		o(b)
	}
	b.logger = c.logger.With("channel", b.channel)
	return b
}

// Publish sends e to every node's subscribers. It returns once Redis has accepted the
// event; an unreachable Redis is an error wrapping plop.ErrUnavailable.
func (b *Broker) Publish(ctx context.Context, e plop.Event) error {
	msg := appendEvent(make([]byte, 0, eventSize(e)), e)
	if err := b.c.rdb.Publish(ctx, b.channel, msg).Err(); err != nil {
		return fail("publish "+e.Type, err)
	}
	return nil
}

// Subscribe calls deliver for every event published from now on, on any node, until ctx is
// done; deliver must not block, and subscribers share each event's slices, which they must
// not modify. It returns once the subscription is in place: when there is no feed yet, once
// Redis has confirmed it; when the feed is reconnecting, it fails with an error wrapping
// plop.ErrUnavailable.
func (b *Broker) Subscribe(ctx context.Context, deliver func(plop.Event)) error {
	if deliver == nil {
		return plop.Errorf(plop.EInvalid, "subscribe: deliver is nil")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	s := &subscriber{deliver: deliver}

	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.feed
	if f == nil {
		var err error
		if f, err = b.startFeed(ctx); err != nil {
			return err
		}
		b.feed = f
	} else if !f.up.Load() {
		return fmt.Errorf("redis subscribe %s: %w: reconnecting", b.channel, plop.ErrUnavailable)
	}
	f.add(s)
	context.AfterFunc(ctx, func() { b.remove(f, s) })
	return nil
}

// remove drops s from f and stops f when s was its last subscriber.
func (b *Broker) remove(f *feed, s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f.remove(s) > 0 {
		return
	}
	f.cancel()
	if b.feed == f {
		b.feed = nil
	}
}

// startFeed subscribes to the channel, waits for the confirmation and starts the receive
// goroutine. ctx bounds the wait only.
func (b *Broker) startFeed(ctx context.Context) (*feed, error) {
	ps := b.c.rdb.Subscribe(ctx, b.channel)
	if err := confirm(ctx, ps, b.c.opTimeout); err != nil {
		ps.Close()
		return nil, fail("subscribe "+b.channel, err)
	}
	f := &feed{b: b, done: make(chan struct{})}
	f.subs.Store(&[]*subscriber{})
	f.up.Store(true)
	f.ctx, f.cancel = context.WithCancel(context.Background())
	go f.run(ps)
	return f, nil
}

// confirm waits for the reply to the SUBSCRIBE that ps sent.
func confirm(ctx context.Context, ps *goredis.PubSub, timeout time.Duration) error {
	for {
		msg, err := ps.ReceiveTimeout(ctx, timeout)
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" {
				return nil
			}
		case *goredis.Message:
			// Published between the SUBSCRIBE and its confirmation: before Subscribe
			// returned, so no subscriber is owed it.
		}
	}
}

type subscriber struct {
	deliver func(plop.Event)
}

// feed is one subscription to the events channel and the subscribers it serves.
type feed struct {
	b      *Broker
	ctx    context.Context // done when the last subscriber is gone
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	subs atomic.Pointer[[]*subscriber] // copy-on-write; written under b.mu
	up   atomic.Bool                   // subscribed and not known to be disconnected
}

// add appends s to the subscribers; b.mu is held.
func (f *feed) add(s *subscriber) {
	old := *f.subs.Load()
	next := make([]*subscriber, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	f.subs.Store(&next)
}

// remove drops s from the subscribers and returns how many are left; b.mu is held.
func (f *feed) remove(s *subscriber) int {
	old := *f.subs.Load()
	next := make([]*subscriber, 0, len(old))
	for _, o := range old {
		if o != s {
			next = append(next, o)
		}
	}
	f.subs.Store(&next)
	return len(next)
}

// run receives and delivers events until f.ctx is done, reconnecting when the connection is
// lost. It owns ps (and any PubSub that replaces it) and closes it on return.
func (f *feed) run(ps *goredis.PubSub) {
	defer close(f.done)
	// watch closes p when f.ctx is done, which ends a receive blocked on it; the function
	// it returns cancels that.
	watch := func(p *goredis.PubSub) (stop func() bool) {
		return context.AfterFunc(f.ctx, func() { p.Close() })
	}
	closeOnDone := watch(ps)
	defer func() {
		if closeOnDone() {
			ps.Close()
		}
	}()
	log := f.b.logger
	var (
		pinged  bool // a ping is waiting for its answer
		failing bool // the connection is lost and not yet subscribed again
		backoff = minBackoff
	)
	for {
		msg, err := ps.ReceiveTimeout(f.ctx, f.b.health)
		if f.ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if !pinged {
					pinged = true
					if err := ps.Ping(f.ctx); err == nil {
						continue
					}
				}
				// Silent for two health intervals, ping included: the connection is dead
				// without the socket knowing. Start over on a new one.
				if !failing {
					failing = true
					f.up.Store(false)
					log.Warn("redis subscription silent; reconnecting")
				}
				if closeOnDone() {
					ps.Close()
				}
				ps = f.b.c.rdb.Subscribe(f.ctx, f.b.channel)
				closeOnDone = watch(ps)
				pinged = false
				continue
			}
			if !failing {
				failing = true
				f.up.Store(false)
				log.Warn("redis subscription lost; reconnecting", "err", err)
			}
			// go-redis dials again and re-sends SUBSCRIBE on the next receive.
			select {
			case <-f.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		pinged = false
		switch m := msg.(type) {
		case *goredis.Message:
			f.deliver(m.Payload)
		case *goredis.Subscription:
			if m.Kind == "subscribe" {
				if failing {
					log.Info("redis subscription restored")
				}
				failing, backoff = false, minBackoff
				f.up.Store(true)
			}
		}
	}
}

// deliver decodes one message and hands it to every subscriber.
func (f *feed) deliver(payload string) {
	e, err := decodeEvent(payload)
	if err != nil {
		f.b.logger.Warn("dropping a message that is not an event", "err", err, "bytes", len(payload))
		return
	}
	for _, s := range *f.subs.Load() {
		s.deliver(e)
	}
}
