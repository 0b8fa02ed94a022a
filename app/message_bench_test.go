package app

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/plop-chat/plop"
)

// BenchmarkSendMessage measures the hot path of a message through the services on the
// embedded store: membership, insert, fan-out to the in-process broker.
func BenchmarkSendMessage(b *testing.B) {
	for _, size := range []int{2, 50} {
		b.Run(fmt.Sprintf("group=%d", size), func(b *testing.B) {
			ta, r := benchRoom(b, size)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := ta.SendMessage(ctx, r.CreatedBy, r.ID, MessageInput{Body: "hello there"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSendMessageParallel sends from every member of one group at once.
func BenchmarkSendMessageParallel(b *testing.B) {
	ta, r := benchRoom(b, 8)
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		me := r.Members[int(next.Add(1))%len(r.Members)].UserID
		for pb.Next() {
			if _, _, err := ta.SendMessage(ctx, me, r.ID, MessageInput{Body: "hello there"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkDirectSendMessage is the direct-room path, which also checks for a block.
func BenchmarkDirectSendMessage(b *testing.B) {
	ta := newTestApp(b, Config{})
	ann := ta.user(b, "Ann")
	bob := ta.friendOf(b, "Bob", ann)
	r := ta.direct(b, ann, bob)
	ta.events.reset()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := ta.SendMessage(ctx, ann, r.ID, MessageInput{Body: "hello there"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTypingThrottled is a typist who keeps sending typing=true within the interval:
// every call after the first is dropped by the throttle.
func BenchmarkTypingThrottled(b *testing.B) {
	ta, r := benchRoom(b, 8)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ta.Typing(ctx, r.CreatedBy, "conn", r.ID, true); err != nil {
			b.Fatal(err)
		}
	}
}

// benchRoom returns a group of size members whose events are not recorded.
func benchRoom(b *testing.B, size int) (*testApp, plop.Room) {
	b.Helper()
	ta := newTestApp(b, Config{})
	ann := ta.user(b, "Ann")
	var ids []string
	for i := 1; i < size; i++ {
		ids = append(ids, ta.friendOf(b, fmt.Sprintf("Friend%d", i), ann))
	}
	r := ta.group(b, ann, "bench", ids...)
	ta.events.discard()
	return ta, r
}
