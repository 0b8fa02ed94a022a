package sqlstore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

// forEachBenchDB runs body as one sub-benchmark per dialect on a fresh database.
func forEachBenchDB(b *testing.B, body func(b *testing.B, db *DB)) {
	for _, o := range dbOpeners {
		b.Run(o.name, func(b *testing.B) { body(b, o.open(b)) })
	}
}

// benchFriends gives the user of db n friends and returns it.
func benchFriends(b *testing.B, db *DB, n int) plop.User {
	b.Helper()
	me := mustUser(b, db, "Me")
	for i := range n {
		f := mustUser(b, db, fmt.Sprintf("Friend %02d", i))
		mustFriends(b, db, me.ID, f.ID)
	}
	return me
}

// BenchmarkFriends measures the friends list of a user with 50 friends, the hottest read.
func BenchmarkFriends(b *testing.B) { forEachBenchDB(b, benchmarkFriends) }

func benchmarkFriends(b *testing.B, db *DB) {
	me := benchFriends(b, db, 50)
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fs, err := db.Friends(ctx, me.ID)
			if err != nil || len(fs) != 50 {
				b.Fatalf("Friends: %d, %v", len(fs), err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				fs, err := db.Friends(ctx, me.ID)
				if err != nil || len(fs) != 50 {
					b.Errorf("Friends: %d, %v", len(fs), err)
					return
				}
			}
		})
	})
}

// BenchmarkCreateMessage measures storing one message (one write transaction).
func BenchmarkCreateMessage(b *testing.B) { forEachBenchDB(b, benchmarkCreateMessage) }

func benchmarkCreateMessage(b *testing.B, db *DB) {
	a, c := mustUser(b, db, "A"), mustUser(b, db, "C")
	r := mustRoom(b, db, t0, a, c)
	ctx := context.Background()
	var n atomicCounter // client ids stay unique across repeated runs on this database
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			i := n.next()
			_, created, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "hello there",
				ClientMsgID: fmt.Sprintf("s-%d", i), CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)})
			if err != nil || !created {
				b.Fatalf("CreateMessage: %v %v", created, err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.next()
				_, created, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: c.ID, Body: "hello there",
					ClientMsgID: fmt.Sprintf("p-%d", i), CreatedAt: t0})
				if err != nil || !created {
					b.Errorf("CreateMessage: %v %v", created, err)
					return
				}
			}
		})
	})
}

// BenchmarkRooms measures one page of 20 rooms with members and last messages.
func BenchmarkRooms(b *testing.B) { forEachBenchDB(b, benchmarkRooms) }

func benchmarkRooms(b *testing.B, db *DB) {
	me, other := mustUser(b, db, "Me"), mustUser(b, db, "Other")
	for i := range 20 {
		r := mustRoom(b, db, t0.Add(time.Duration(i)*time.Second), me, other)
		mustSend(b, db, r.ID, other.ID, "hi", t0.Add(time.Minute))
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		rooms, _, err := db.Rooms(ctx, me.ID, "", 20)
		if err != nil || len(rooms) != 20 {
			b.Fatalf("Rooms: %d, %v", len(rooms), err)
		}
	}
}

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) next() int64 { return c.n.Add(1) }
