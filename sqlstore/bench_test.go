package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/sqlstore/sqlstoretest"
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

// BenchmarkCreateMessageNodes measures sending from 4 handles on one database, as 4 nodes
// would, with 32 concurrent senders: all into one room (every send waits for the room's
// lock) and each sender into a room of its own.
func BenchmarkCreateMessageNodes(b *testing.B) {
	for _, o := range []struct {
		name string
		url  func(tb testing.TB) string
	}{
		{"sqlite", func(tb testing.TB) string { return "sqlite://" + filepath.Join(tb.TempDir(), "plop.db") }},
		{"mysql", sqlstoretest.MySQLURL},
	} {
		b.Run(o.name, func(b *testing.B) {
			nodes := openNodes(b, o.url(b), 4)
			const senders = 32
			users := make([]plop.User, senders)
			for i := range users {
				users[i] = mustUser(b, nodes[0], fmt.Sprintf("Sender %d", i))
			}
			shared := mustRoom(b, nodes[0], t0, users...)
			var ids atomic.Int64 // client ids stay unique across the runs of the sub-benchmarks
			own := make([]plop.Room, senders)
			for i := range own {
				own[i] = mustRoom(b, nodes[0], t0, users[i])
			}
			for _, c := range []struct {
				name string
				room func(sender int) string
			}{
				{"one-room", func(int) string { return shared.ID }},
				{"room-each", func(i int) string { return own[i].ID }},
			} {
				b.Run(c.name, func(b *testing.B) {
					var next atomic.Int64
					b.SetParallelism(senders / runtime.GOMAXPROCS(0))
					b.RunParallel(func(pb *testing.PB) {
						i := int(next.Add(1)-1) % senders
						db, ctx := nodes[i%len(nodes)], context.Background()
						for pb.Next() {
							_, created, err := db.CreateMessage(ctx, &plop.Message{RoomID: c.room(i), SenderID: users[i].ID,
								Body: "hello there", ClientMsgID: fmt.Sprint("n-", ids.Add(1)), CreatedAt: t0})
							if err != nil || !created {
								b.Errorf("CreateMessage: %v %v", created, err)
								return
							}
						}
					})
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
				})
			}
		})
	}
}

// BenchmarkCreateMessageRooms measures 64 concurrent senders on one handle, each sending to
// one of 50 rooms, as a busy node does: the case the group commit of CreateMessage is for.
func BenchmarkCreateMessageRooms(b *testing.B) { forEachBenchDB(b, benchmarkCreateMessageRooms) }

func benchmarkCreateMessageRooms(b *testing.B, db *DB) {
	const senders, roomCount = 64, 50
	users := make([]plop.User, senders)
	for i := range users {
		users[i] = mustUser(b, db, fmt.Sprintf("Sender %d", i))
	}
	rooms := make([]plop.Room, roomCount)
	for i := range rooms {
		var members []plop.User
		for j := i; j < senders; j += roomCount {
			members = append(members, users[j])
		}
		rooms[i] = mustRoom(b, db, t0, members...)
	}
	var next, ids atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.SetParallelism(max(1, senders/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)-1) % senders
		ctx := context.Background()
		for pb.Next() {
			_, created, err := db.CreateMessage(ctx, &plop.Message{RoomID: rooms[i%roomCount].ID, SenderID: users[i].ID,
				Body: "hello there", ClientMsgID: fmt.Sprint("r-", ids.Add(1)), CreatedAt: t0})
			if err != nil || !created {
				b.Errorf("CreateMessage: %v %v", created, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
