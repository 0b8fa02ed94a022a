package sqlstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

// BenchmarkHistoryPage measures one page of 50 messages of a room, with no attachments and
// with one message in five carrying two (their metadata comes with the page, in one query).
func BenchmarkHistoryPage(b *testing.B) {
	for _, every := range []int{0, 5} {
		name := "no-attachments"
		if every > 0 {
			name = fmt.Sprintf("attachments-every-%d", every)
		}
		b.Run(name, func(b *testing.B) {
			forEachBenchDB(b, func(b *testing.B, db *DB) { benchmarkHistoryPage(b, db, every) })
		})
	}
}

func benchmarkHistoryPage(b *testing.B, db *DB, every int) {
	ctx := context.Background()
	me, other := mustUser(b, db, "Me"), mustUser(b, db, "Other")
	r := mustRoom(b, db, t0, me, other)
	for i := range 50 {
		m := plop.Message{RoomID: r.ID, SenderID: me.ID, Body: "hi", CreatedAt: t0.Add(time.Duration(i) * time.Second)}
		if every > 0 && i%every == 0 {
			m.AttachmentIDs = []string{
				mustAttachment(b, db, r.ID, me.ID, fmt.Sprintf("a%d.txt", i), t0).ID,
				mustAttachment(b, db, r.ID, me.ID, fmt.Sprintf("b%d.txt", i), t0).ID,
			}
		}
		if _, _, err := db.CreateMessage(ctx, &m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		msgs, err := db.Messages(ctx, r.ID, 0, 0, 50)
		if err != nil || len(msgs) != 50 {
			b.Fatalf("Messages: %d, %v", len(msgs), err)
		}
	}
}
