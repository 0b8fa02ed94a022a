package redis

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

// BenchmarkLimiterAllow measures one Allow against the real Redis, over 10,000 keys, from
// one goroutine (latency) and from many (throughput).
func BenchmarkLimiterAllow(b *testing.B) {
	l := NewLimiter(mustClient(b))
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
	}
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		var lat []time.Duration
		i := 0
		for b.Loop() {
			start := time.Now()
			if _, _, err := l.Allow(ctx, keys[i%len(keys)], 100, time.Minute); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
			i++
		}
		reportPercentiles(b, lat)
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, _, err := l.Allow(ctx, keys[i%len(keys)], 100, time.Minute); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

// BenchmarkBrokerPublishDeliver measures the time from Publish on one node to delivery on
// another, one event at a time, and reports its median and 99th percentile.
func BenchmarkBrokerPublishDeliver(b *testing.B) {
	prefix := mustClient(b).prefix
	pub := NewBroker(mustClientPrefix(b, prefix))
	sub := NewBroker(mustClientPrefix(b, prefix))
	got := make(chan time.Time, 1)
	if err := sub.Subscribe(b.Context(), func(plop.Event) { got <- time.Now() }); err != nil {
		b.Fatal(err)
	}
	e := plop.Event{Type: plop.EventMessageCreated, RoomID: "room-0190f3a2-7c1e-7d2b-9a4e-1f2c3d4e5f60", Seq: 1,
		UserIDs: []string{"user-1", "user-2"}, Body: make([]byte, 300)}
	ctx := context.Background()
	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if err := pub.Publish(ctx, e); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-got:
			lat = append(lat, at.Sub(start))
		case <-time.After(5 * time.Second):
			b.Fatal("event not delivered")
		}
	}
	reportPercentiles(b, lat)
}

// reportPercentiles reports the median and the 99th percentile of lat in microseconds.
func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkBrokerPublish measures publishing throughput from many goroutines, with one
// subscribed node receiving everything.
func BenchmarkBrokerPublish(b *testing.B) {
	c := mustClient(b)
	br := NewBroker(c)
	if err := br.Subscribe(b.Context(), func(plop.Event) {}); err != nil {
		b.Fatal(err)
	}
	e := plop.Event{Type: plop.EventMessageCreated, RoomID: "room-1", Seq: 1, UserIDs: []string{"a", "b"}, Body: make([]byte, 300)}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := br.Publish(ctx, e); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPresenceConnectDisconnect measures one connection opening and closing.
func BenchmarkPresenceConnectDisconnect(b *testing.B) {
	p := NewPresence(mustClient(b), "bench")
	defer p.Close()
	ctx := context.Background()
	now := time.Now()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		u := "user-" + strconv.Itoa(i%1000)
		if _, err := p.Connect(ctx, u, "c", now); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Disconnect(ctx, u, "c", now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSessionRotate measures one refresh token rotation.
func BenchmarkSessionRotate(b *testing.B) {
	s := NewSessionStore(mustClient(b))
	ctx := context.Background()
	now := plop.UTC(time.Now())
	if err := s.CreateSession(ctx, plop.Session{ID: "s", UserID: "u", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, "h0"); err != nil {
		b.Fatal(err)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.RotateRefreshToken(ctx, "h"+strconv.Itoa(i), "h"+strconv.Itoa(i+1), now.Add(time.Hour), now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
