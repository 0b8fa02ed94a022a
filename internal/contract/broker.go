package contract

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/plop-chat/plop"
)

// TestBroker checks the behaviour every plop.Broker must have: each subscriber receives every
// event published after its Subscribe returned, intact and in publishing order, until its
// context is done, also under concurrent publishers and subscribers.
func TestBroker(t *testing.T, newBroker func(t *testing.T) plop.Broker) {
	t.Run("EverySubscriberGetsEveryEventInOrder", func(t *testing.T) {
		b := newBroker(t)
		ctx := t.Context()
		recs := make([]*recorder, 3)
		for i := range recs {
			recs[i] = subscribe(t, ctx, b)
		}
		room := newID("room")
		const n = 100
		for i := 1; i <= n; i++ {
			publish(t, b, plop.Event{Type: plop.EventMessageCreated, RoomID: room, Seq: int64(i)})
		}
		for i, r := range recs {
			got := r.wait(t, n)
			for j, e := range got {
				if e.RoomID != room || e.Seq != int64(j+1) {
					t.Fatalf("subscriber %d: event %d is %s seq %d, want %s seq %d", i, j, e.RoomID, e.Seq, room, j+1)
				}
			}
		}
	})

	t.Run("EventArrivesIntact", func(t *testing.T) {
		b := newBroker(t)
		r := subscribe(t, t.Context(), b)
		want := plop.Event{
			Type:       plop.EventTyping,
			RoomID:     newID("room"),
			Seq:        42,
			UserIDs:    []string{newID("user"), newID("user")},
			ExceptConn: newID("conn"),
			Body:       []byte(`{"type":"typing","typing":true,"text":"héllo \u00e9 \n"}`),
		}
		publish(t, b, want)
		got := r.wait(t, 1)
		if diff := cmp.Diff(want, got[0]); diff != "" {
			t.Fatalf("delivered event differs from the published one (-want +got):\n%s", diff)
		}
	})

	t.Run("CancelStopsDelivery", func(t *testing.T) {
		b := newBroker(t)
		subCtx, cancel := context.WithCancel(t.Context())
		gone := subscribe(t, subCtx, b)
		stays := subscribe(t, t.Context(), b)
		publish(t, b, plop.Event{Type: "probe", Seq: 0})
		gone.wait(t, 1)
		stays.wait(t, 1)

		cancel()
		// Unsubscribing may finish a little after cancel returns: publish probes until one
		// reaches the live subscriber and not the cancelled one.
		seq := int64(0)
		waitFor(t, "the cancelled subscriber to stop receiving", func() bool {
			seq++
			before := gone.len()
			publish(t, b, plop.Event{Type: "probe", Seq: seq})
			stays.wait(t, int(seq)+1)
			return gone.len() == before
		})
		stopped := gone.len()
		const more = 20
		for i := 1; i <= more; i++ {
			publish(t, b, plop.Event{Type: "after", Seq: seq + int64(i)})
		}
		stays.wait(t, int(seq)+1+more)
		if n := gone.len(); n != stopped {
			t.Fatalf("cancelled subscriber received %d more events after it had stopped", n-stopped)
		}
	})

	t.Run("ConcurrentPublishersAndSubscribers", func(t *testing.T) {
		b := newBroker(t)
		ctx := t.Context()
		recs := []*recorder{subscribe(t, ctx, b), subscribe(t, ctx, b)}

		const publishers, perPublisher = 8, 200
		var wg sync.WaitGroup
		for p := range publishers {
			wg.Go(func() {
				room := fmt.Sprintf("publisher-%d", p)
				for i := 1; i <= perPublisher; i++ {
					if err := b.Publish(ctx, plop.Event{Type: "load", RoomID: room, Seq: int64(i)}); err != nil {
						t.Errorf("publish: %v", err)
						return
					}
				}
			})
		}
		// Subscribers come and go while the publishers run.
		for range 4 {
			wg.Go(func() {
				for range 50 {
					c, cancel := context.WithCancel(ctx)
					if err := b.Subscribe(c, func(plop.Event) {}); err != nil {
						t.Errorf("subscribe: %v", err)
					}
					cancel()
				}
			})
		}
		wg.Wait()

		for i, r := range recs {
			got := r.wait(t, publishers*perPublisher)
			last := map[string]int64{}
			for _, e := range got {
				if e.Seq != last[e.RoomID]+1 {
					t.Fatalf("subscriber %d: %s seq %d came after seq %d", i, e.RoomID, e.Seq, last[e.RoomID])
				}
				last[e.RoomID] = e.Seq
			}
		}
	})
}

// recorder keeps the events delivered to one subscriber.
type recorder struct {
	mu     sync.Mutex
	events []plop.Event
}

func (r *recorder) deliver(e plop.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// wait polls until the recorder holds at least n events and returns them; more than n is a
// failure.
func (r *recorder) wait(tb testing.TB, n int) []plop.Event {
	tb.Helper()
	waitFor(tb, fmt.Sprintf("%d events", n), func() bool { return r.len() >= n })
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) > n {
		tb.Fatalf("got %d events, want %d", len(r.events), n)
	}
	return append([]plop.Event(nil), r.events...)
}

func subscribe(tb testing.TB, ctx context.Context, b plop.Broker) *recorder {
	tb.Helper()
	r := &recorder{}
	if err := b.Subscribe(ctx, r.deliver); err != nil {
		tb.Fatalf("subscribe: %v", err)
	}
	return r
}

func publish(tb testing.TB, b plop.Broker, e plop.Event) {
	tb.Helper()
	if err := b.Publish(context.Background(), e); err != nil {
		tb.Fatalf("publish %s: %v", e.Type, err)
	}
}
