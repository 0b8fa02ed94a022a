package inmem

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestPresenceLastSeenIsACopy(t *testing.T) {
	p := NewPresence()
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p.Connect(ctx, "u", "c", now)
	p.Disconnect(ctx, "u", "c", now)
	got, _ := p.Presence(ctx, []string{"u"})
	*got[0].LastSeen = now.Add(time.Hour)
	again, _ := p.Presence(ctx, []string{"u"})
	if !again[0].LastSeen.Equal(now) {
		t.Fatalf("changing a returned last_seen changed the store: %v, want %v", again[0].LastSeen, now)
	}
}

// BenchmarkPresenceConnectDisconnect measures one connection opening and closing, from many
// goroutines over many users.
func BenchmarkPresenceConnectDisconnect(b *testing.B) {
	p := NewPresence()
	ctx := context.Background()
	now := time.Now()
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		id := next.Add(1)
		conn := "conn-" + strconv.FormatInt(id, 10)
		i := 0
		for pb.Next() {
			user := "user-" + strconv.Itoa(i%1000)
			i++
			p.Connect(ctx, user, conn, now)
			p.Disconnect(ctx, user, conn, now)
		}
	})
}
