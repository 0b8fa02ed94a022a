package inmem

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/plop-chat/plop"
)

var _ plop.Broker = (*Broker)(nil)

// Broker is the in-process plop.Broker: Publish hands the event to every subscriber of this
// process, synchronously, on the publisher's goroutine.
//
// The subscriber list is copy-on-write: Publish loads it with one atomic read and takes no
// lock, so publishers never wait for each other nor for Subscribe; subscribing and
// unsubscribing copy the list under a mutex. Events published by one goroutine reach every
// subscriber in the order they were published.
type Broker struct {
	mu   sync.Mutex // serializes writers of subs
	subs atomic.Pointer[[]*subscriber]
}

type subscriber struct {
	deliver func(plop.Event)
}

// NewBroker returns an empty Broker.
func NewBroker() *Broker {
	b := &Broker{}
	b.subs.Store(&[]*subscriber{})
	return b
}

// Publish calls every current subscriber's deliver with e and returns when all have been
// called. Subscribers share e's slices and must not modify them. It fails only when ctx is
// already done.
func (b *Broker) Publish(ctx context.Context, e plop.Event) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publish %s: %w", e.Type, err)
	}
	for _, s := range *b.subs.Load() {
		s.deliver(e)
	}
	return nil
}

// Subscribe adds deliver to the subscribers; events published after Subscribe returns reach
// it. When ctx is done the subscription is removed (by a context.AfterFunc, so no goroutine
// waits meanwhile); deliver may still be called for an event whose Publish was already
// under way. Subscribing with a ctx that is already done is an error.
func (b *Broker) Subscribe(ctx context.Context, deliver func(plop.Event)) error {
	if deliver == nil {
		return plop.Errorf(plop.EInvalid, "subscribe: deliver is nil")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	s := &subscriber{deliver: deliver}
	b.mu.Lock()
	old := *b.subs.Load()
	next := make([]*subscriber, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	b.subs.Store(&next)
	b.mu.Unlock()
	context.AfterFunc(ctx, func() { b.remove(s) })
	return nil
}

// remove drops s from the subscribers.
func (b *Broker) remove(s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := *b.subs.Load()
	next := make([]*subscriber, 0, len(old))
	for _, o := range old {
		if o != s {
			next = append(next, o)
		}
	}
	b.subs.Store(&next)
}

// subscribers returns the number of live subscriptions.
func (b *Broker) subscribers() int { return len(*b.subs.Load()) }
