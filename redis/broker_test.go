package redis

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

// inbox collects delivered events.
type inbox struct {
	mu     sync.Mutex
	events []plop.Event
}

func (in *inbox) deliver(e plop.Event) {
	in.mu.Lock()
	in.events = append(in.events, e)
	in.mu.Unlock()
}

// has reports whether an event of type typ with seq has arrived.
func (in *inbox) has(typ string, seq int64) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, e := range in.events {
		if e.Type == typ && e.Seq == seq {
			return true
		}
	}
	return false
}

func (in *inbox) len() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.events)
}

// currentFeed returns b's feed, nil when it has no subscriber.
func currentFeed(b *Broker) *feed {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.feed
}

func mustSubscribe(tb testing.TB, ctx context.Context, b *Broker) *inbox {
	tb.Helper()
	in := &inbox{}
	if err := b.Subscribe(ctx, in.deliver); err != nil {
		tb.Fatalf("subscribe: %v", err)
	}
	return in
}

func TestBrokerTwoNodes(t *testing.T) {
	prefix := mustClient(t).prefix
	a := NewBroker(mustClientPrefix(t, prefix))
	b := NewBroker(mustClientPrefix(t, prefix))
	inA, inB := mustSubscribe(t, t.Context(), a), mustSubscribe(t, t.Context(), b)

	if err := a.Publish(t.Context(), plop.Event{Type: "from-a", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(t.Context(), plop.Event{Type: "from-b", Seq: 2}); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]*inbox{"node a": inA, "node b": inB} {
		waitFor(t, 5*time.Second, name+" to receive both nodes' events", func() bool {
			return in.has("from-a", 1) && in.has("from-b", 2)
		})
	}

	// Another cluster on the same Redis hears nothing of this one.
	other := NewBroker(mustClient(t))
	inOther := mustSubscribe(t, t.Context(), other)
	if err := a.Publish(t.Context(), plop.Event{Type: "from-a", Seq: 3}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "node b to receive the third event", func() bool { return inB.has("from-a", 3) })
	if n := inOther.len(); n != 0 {
		t.Fatalf("a cluster with another prefix received %d events", n)
	}
}

func TestBrokerFeedEndsWithItsLastSubscriber(t *testing.T) {
	b := NewBroker(mustClient(t))
	ctx1, cancel1 := context.WithCancel(t.Context())
	ctx2, cancel2 := context.WithCancel(t.Context())
	mustSubscribe(t, ctx1, b)
	mustSubscribe(t, ctx2, b)
	f := currentFeed(b)

	cancel1()
	if err := b.Publish(t.Context(), plop.Event{Type: "probe"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.done:
		t.Fatal("the feed stopped while a subscriber was left")
	case <-time.After(50 * time.Millisecond):
	}

	cancel2()
	select {
	case <-f.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the feed goroutine still runs after every subscriber left")
	}
	if currentFeed(b) != nil {
		t.Fatal("the Broker still holds the stopped feed")
	}

	// A new subscriber starts a new feed.
	in := mustSubscribe(t, t.Context(), b)
	if err := b.Publish(t.Context(), plop.Event{Type: "again", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "an event on the new feed", func() bool { return in.has("again", 1) })
}

func TestBrokerSkipsMessagesThatAreNotEvents(t *testing.T) {
	c := mustClient(t)
	b := NewBroker(c)
	in := mustSubscribe(t, t.Context(), b)
	if err := c.rdb.Publish(t.Context(), b.channel, `{"type":"json from a stranger"}`).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(t.Context(), plop.Event{Type: "good", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the good event", func() bool { return in.has("good", 1) })
	if n := in.len(); n != 1 {
		t.Fatalf("%d events delivered, want only the good one", n)
	}
}

func TestBrokerSurvivesRedisRestart(t *testing.T) {
	srv := startPrivateServer(t)
	c := srv.open(t)
	b := NewBroker(c, BrokerHealthCheck(200*time.Millisecond))
	in := mustSubscribe(t, t.Context(), b)
	if err := b.Publish(t.Context(), plop.Event{Type: "before", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the event published before the restart", func() bool { return in.has("before", 1) })

	srv.kill()
	// While Redis is down, publishing fails fast with unavailable, and new subscribers are
	// refused rather than told a subscription is in place.
	start := time.Now()
	err := b.Publish(t.Context(), plop.Event{Type: "lost"})
	if !errors.Is(err, plop.ErrUnavailable) || plop.ErrorCode(err) != plop.EUnavailable {
		t.Fatalf("publish with Redis down: err = %v, want one wrapping ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("publish with Redis down took %v, want a fast failure", d)
	}
	waitFor(t, 5*time.Second, "the feed to notice the lost connection", func() bool {
		return !currentFeed(b).up.Load()
	})
	if err := b.Subscribe(t.Context(), func(plop.Event) {}); !errors.Is(err, plop.ErrUnavailable) {
		t.Fatalf("subscribe while disconnected: err = %v, want one wrapping ErrUnavailable", err)
	}

	srv.start()
	// Events published after the restart reach the old subscriber again, once go-redis has
	// reconnected and subscribed anew: publish probes until one arrives.
	seq := int64(0)
	waitFor(t, 10*time.Second, "an event published after the restart", func() bool {
		seq++
		if err := b.Publish(t.Context(), plop.Event{Type: "after", Seq: seq}); err != nil {
			return false
		}
		deadline := time.Now().Add(100 * time.Millisecond)
		for time.Now().Before(deadline) {
			if in.has("after", seq) {
				return true
			}
			time.Sleep(2 * time.Millisecond)
		}
		return false
	})
	if !currentFeed(b).up.Load() {
		t.Fatal("the feed delivers again but does not say it is up")
	}
	// And new subscribers are welcome again.
	late := mustSubscribe(t, t.Context(), b)
	if err := b.Publish(t.Context(), plop.Event{Type: "late", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the late subscriber's event", func() bool { return late.has("late", 1) && in.has("late", 1) })
}

func TestBrokerSubscribeFailsWithoutRedis(t *testing.T) {
	srv := startPrivateServer(t)
	c := srv.open(t)
	srv.kill()
	err := NewBroker(c).Subscribe(t.Context(), func(plop.Event) {})
	if !errors.Is(err, plop.ErrUnavailable) {
		t.Fatalf("subscribe with Redis down: err = %v, want one wrapping ErrUnavailable", err)
	}
}

func TestBrokerReplacesASilentConnection(t *testing.T) {
	direct := mustClient(t)
	proxy := startFreezingProxy(t, direct.rdb.Options().Addr)
	ctx := context.Background()
	c, err := Open(ctx, "redis://"+proxy.addr()+"/"+strconv.Itoa(direct.rdb.Options().DB), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c = c.WithPrefix(direct.prefix)

	const health = 100 * time.Millisecond
	b := NewBroker(c, BrokerHealthCheck(health))
	in := mustSubscribe(t, t.Context(), b)
	publisher := NewBroker(direct)
	if err := publisher.Publish(ctx, plop.Event{Type: "before", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the event before the freeze", func() bool { return in.has("before", 1) })

	proxy.freeze()
	// The subscription's socket is open but dead. After a silent interval and an unanswered
	// ping the feed must give it up and subscribe on a new connection.
	seq := int64(0)
	waitFor(t, 10*time.Second, "an event published after the freeze", func() bool {
		seq++
		if err := publisher.Publish(ctx, plop.Event{Type: "after", Seq: seq}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(health)
		for time.Now().Before(deadline) {
			if in.has("after", seq) {
				return true
			}
			time.Sleep(2 * time.Millisecond)
		}
		return false
	})
}
