package inmem

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

func TestBrokerForgetsCancelledSubscribers(t *testing.T) {
	b := NewBroker()
	ctx, cancel := context.WithCancel(t.Context())
	for range 100 {
		if err := b.Subscribe(ctx, func(plop.Event) {}); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.subscribers(); n != 100 {
		t.Fatalf("subscribers = %d, want 100", n)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for b.subscribers() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers left after their context was cancelled", b.subscribers())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBrokerSubscribeRefusesDoneContextAndNilDeliver(t *testing.T) {
	b := NewBroker()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.Subscribe(ctx, func(plop.Event) {}); err == nil {
		t.Fatal("subscribe with a cancelled context succeeded")
	}
	if err := b.Subscribe(t.Context(), nil); plop.ErrorCode(err) != plop.EInvalid {
		t.Fatalf("subscribe with nil deliver: err = %v, want invalid_argument", err)
	}
	if n := b.subscribers(); n != 0 {
		t.Fatalf("refused subscriptions left %d subscribers", n)
	}
}

// BenchmarkBrokerPublish measures one Publish reaching n subscribers.
func BenchmarkBrokerPublish(b *testing.B) {
	for _, n := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			br := NewBroker()
			for range n {
				if err := br.Subscribe(b.Context(), func(plop.Event) {}); err != nil {
					b.Fatal(err)
				}
			}
			e := plop.Event{Type: plop.EventMessageCreated, RoomID: "r", Seq: 1, Body: []byte(`{}`)}
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := br.Publish(ctx, e); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
