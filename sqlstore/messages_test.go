package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plop-chat/plop"
)

func TestMessageStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()

		t.Run("create and load", func(t *testing.T) {
			a, b := mustUser(t, db, "Sa"), mustUser(t, db, "Sb")
			r := mustRoom(t, db, t0, a, b)
			first := mustSend(t, db, r.ID, a.ID, "first", t0.Add(time.Second))
			in := plop.Message{RoomID: r.ID, SenderID: b.ID, Body: "reply", ClientMsgID: "c-1", ReplyTo: ptr(first.Seq), CreatedAt: t0.Add(2 * time.Second)}
			m, created, err := db.CreateMessage(ctx, &in)
			must(t, err)
			want := plop.Message{ID: m.ID, RoomID: r.ID, Seq: 2, SenderID: b.ID, Body: "reply", ClientMsgID: "c-1", ReplyTo: ptr(int64(1)),
				Reactions: []plop.Reaction{}, Attachments: []plop.Attachment{}, CreatedAt: t0.Add(2 * time.Second)}
			if !created || m.ID == "" {
				t.Fatalf("created=%v id=%q", created, m.ID)
			}
			if d := cmp.Diff(want, m); d != "" {
				t.Fatalf("CreateMessage (-want +got):\n%s", d)
			}
			got, err := db.Message(ctx, r.ID, 2)
			must(t, err)
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("Message (-want +got):\n%s", d)
			}
			if first.Seq != 1 || first.ReplyTo != nil || first.ClientMsgID != "" {
				t.Fatalf("first = %+v", first)
			}
			_, err = db.Message(ctx, r.ID, 3)
			wantCode(t, err, plop.ENotFound)
			_, _, err = db.CreateMessage(ctx, &plop.Message{RoomID: "missing", SenderID: a.ID, Body: "x", CreatedAt: t0})
			wantCode(t, err, plop.ENotFound)
		})

		t.Run("client_msg_id makes a retry idempotent", func(t *testing.T) {
			a, b := mustUser(t, db, "Ia"), mustUser(t, db, "Ib")
			r := mustRoom(t, db, t0, a, b)
			m1, created, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "once", ClientMsgID: "k", CreatedAt: t0})
			must(t, err)
			if !created {
				t.Fatal("first send not created")
			}
			m2, created, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "once again", ClientMsgID: "k", CreatedAt: t0.Add(time.Minute)})
			must(t, err)
			if created || m2.ID != m1.ID || m2.Seq != m1.Seq || m2.Body != "once" {
				t.Fatalf("retry = %+v created=%v, want the stored message", m2, created)
			}
			// The same id from another sender, or without an id, is a new message.
			m3, created, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: b.ID, Body: "mine", ClientMsgID: "k", CreatedAt: t0})
			must(t, err)
			if !created || m3.Seq != 2 {
				t.Fatalf("other sender: created=%v seq=%d", created, m3.Seq)
			}
			mustSend(t, db, r.ID, a.ID, "no id", t0)
			mustSend(t, db, r.ID, a.ID, "no id", t0)
			room, err := db.Room(ctx, r.ID, a.ID)
			must(t, err)
			if room.LastSeq != 4 {
				t.Fatalf("last seq = %d, want 4 (a retry must not use a seq)", room.LastSeq)
			}
		})

		t.Run("concurrent senders get gap-free seqs", func(t *testing.T) {
			const senders, each = 8, 50
			users := make([]plop.User, senders)
			for i := range users {
				users[i] = mustUser(t, db, fmt.Sprintf("C%d", i))
			}
			r := mustRoom(t, db, t0, users...)
			var wg sync.WaitGroup
			errs := make(chan error, senders)
			for i := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := range each {
						_, created, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: users[i].ID,
							Body: "m", ClientMsgID: fmt.Sprintf("%d-%d", i, j), CreatedAt: t0})
						if err != nil || !created {
							errs <- fmt.Errorf("sender %d message %d: created=%v err=%v", i, j, created, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			seen := map[int64]bool{}
			lastBy := map[string]int64{}
			before := int64(senders*each + 1)
			for before > 1 {
				page, err := db.Messages(ctx, r.ID, before, 0, plop.MaxPageSize)
				must(t, err)
				if len(page) == 0 {
					break
				}
				for _, m := range page {
					if seen[m.Seq] {
						t.Fatalf("seq %d twice", m.Seq)
					}
					seen[m.Seq] = true
					lastBy[m.SenderID] = max(lastBy[m.SenderID], m.Seq)
				}
				before = page[0].Seq
			}
			for s := int64(1); s <= senders*each; s++ {
				if !seen[s] {
					t.Fatalf("seq %d missing", s)
				}
			}
			if len(seen) != senders*each {
				t.Fatalf("%d messages, want %d", len(seen), senders*each)
			}
			// Every sender's read pointer is at or past their own last message.
			for _, u := range users {
				m, err := db.Member(ctx, r.ID, u.ID)
				must(t, err)
				if m.LastReadSeq < lastBy[u.ID] {
					t.Fatalf("sender %s read pointer %d is behind their last message %d", u.ID, m.LastReadSeq, lastBy[u.ID])
				}
			}
			room, err := db.Room(ctx, r.ID, users[0].ID)
			must(t, err)
			if room.LastSeq != senders*each {
				t.Fatalf("LastSeq = %d", room.LastSeq)
			}
		})

		t.Run("history before, after and latest", func(t *testing.T) {
			a := mustUser(t, db, "Ha")
			r := mustRoom(t, db, t0, a)
			for i := 1; i <= 10; i++ {
				mustSend(t, db, r.ID, a.ID, fmt.Sprint(i), t0)
			}
			seqs := func(ms []plop.Message) []int64 {
				out := []int64{}
				for _, m := range ms {
					out = append(out, m.Seq)
				}
				return out
			}
			for _, c := range []struct {
				before, after int64
				limit         int
				want          []int64
			}{
				{0, 0, 3, []int64{8, 9, 10}},
				{5, 0, 3, []int64{2, 3, 4}},
				{3, 0, 10, []int64{1, 2}},
				{0, 7, 10, []int64{8, 9, 10}},
				{0, 2, 2, []int64{3, 4}},
				{0, 10, 5, []int64{}},
				{8, 3, 10, []int64{4, 5, 6, 7}},
				{1, 0, 5, []int64{}},
			} {
				got, err := db.Messages(ctx, r.ID, c.before, c.after, c.limit)
				must(t, err)
				if d := cmp.Diff(c.want, seqs(got)); d != "" {
					t.Errorf("Messages(before=%d, after=%d, limit=%d) (-want +got):\n%s", c.before, c.after, c.limit, d)
				}
			}
			got, err := db.Messages(ctx, "missing", 0, 0, 10)
			must(t, err)
			if got == nil || len(got) != 0 {
				t.Fatalf("Messages of a missing room = %#v, want empty", got)
			}
		})

		t.Run("edit", func(t *testing.T) {
			a := mustUser(t, db, "Ea")
			r := mustRoom(t, db, t0, a)
			m := mustSend(t, db, r.ID, a.ID, "typo", t0)
			got, err := db.EditMessage(ctx, r.ID, m.Seq, "fixed", t0.Add(time.Minute))
			must(t, err)
			if got.Body != "fixed" || got.EditedAt == nil || !got.EditedAt.Equal(t0.Add(time.Minute)) || got.Seq != m.Seq {
				t.Fatalf("edited = %+v", got)
			}
			again, err := db.Message(ctx, r.ID, m.Seq)
			must(t, err)
			if d := cmp.Diff(got, again); d != "" {
				t.Fatalf("reloaded edit (-want +got):\n%s", d)
			}
			_, err = db.EditMessage(ctx, r.ID, 99, "x", t0)
			wantCode(t, err, plop.ENotFound)
		})

		t.Run("delete clears body and reactions", func(t *testing.T) {
			a, b := mustUser(t, db, "Xa"), mustUser(t, db, "Xb")
			r := mustRoom(t, db, t0, a, b)
			m := mustSend(t, db, r.ID, a.ID, "secret", t0)
			_, err := db.SetReaction(ctx, r.ID, m.Seq, b.ID, "👍", true, t0)
			must(t, err)
			got, err := db.DeleteMessage(ctx, r.ID, m.Seq, t0.Add(time.Minute))
			must(t, err)
			if !got.Deleted || got.Body != "" || len(got.Reactions) != 0 || got.Reactions == nil || got.Attachments == nil {
				t.Fatalf("deleted = %+v", got)
			}
			again, err := db.Message(ctx, r.ID, m.Seq)
			must(t, err)
			if !again.Deleted || again.Body != "" || len(again.Reactions) != 0 {
				t.Fatalf("reloaded deleted = %+v", again)
			}
			room, err := db.Room(ctx, r.ID, b.ID)
			must(t, err)
			if room.LastMessage == nil || !room.LastMessage.Deleted || room.LastMessage.Body != "" {
				t.Fatalf("last message after delete = %+v", room.LastMessage)
			}
			_, err = db.DeleteMessage(ctx, r.ID, m.Seq, t0.Add(time.Hour)) // twice is fine
			must(t, err)
			_, err = db.DeleteMessage(ctx, r.ID, 42, t0)
			wantCode(t, err, plop.ENotFound)
		})

		t.Run("reactions", func(t *testing.T) {
			a, b, c := mustUser(t, db, "Qa"), mustUser(t, db, "Qb"), mustUser(t, db, "Qc")
			r := mustRoom(t, db, t0, a, b, c)
			m := mustSend(t, db, r.ID, a.ID, "react to me", t0)
			other := mustSend(t, db, r.ID, a.ID, "not me", t0)
			set := func(user, emoji string, on bool) []plop.Reaction {
				t.Helper()
				rs, err := db.SetReaction(ctx, r.ID, m.Seq, user, emoji, on, t0)
				must(t, err)
				return rs
			}
			set(c.ID, "😂", true)
			set(a.ID, "👍", true)
			set(b.ID, "😂", true)
			set(b.ID, "😂", true) // twice: still once
			rs := set(a.ID, "😂", true)
			want := []plop.Reaction{
				{Emoji: "😂", Count: 3, UserIDs: []string{c.ID, b.ID, a.ID}},
				{Emoji: "👍", Count: 1, UserIDs: []string{a.ID}},
			}
			if d := cmp.Diff(want, rs); d != "" {
				t.Fatalf("reactions (-want +got):\n%s", d)
			}
			// Emojis are ordered by their earliest remaining reaction: with c's gone, 😂 now
			// dates from b's, which came after a's 👍.
			rs = set(c.ID, "😂", false)
			want = []plop.Reaction{
				{Emoji: "👍", Count: 1, UserIDs: []string{a.ID}},
				{Emoji: "😂", Count: 2, UserIDs: []string{b.ID, a.ID}},
			}
			if d := cmp.Diff(want, rs); d != "" {
				t.Fatalf("after removal (-want +got):\n%s", d)
			}
			set(c.ID, "❤️", false) // removing what is not there is fine
			page, err := db.Messages(ctx, r.ID, 0, 0, 10)
			must(t, err)
			if len(page) != 2 || cmp.Diff(want, page[0].Reactions) != "" || len(page[1].Reactions) != 0 {
				t.Fatalf("page reactions: %+v / %+v", page[0].Reactions, page[1].Reactions)
			}
			set(a.ID, "👍", false)
			rs = set(b.ID, "😂", false)
			rs = set(a.ID, "😂", false)
			if rs == nil || len(rs) != 0 {
				t.Fatalf("all removed = %#v, want empty", rs)
			}
			rs, err = db.SetReaction(ctx, r.ID, other.Seq, b.ID, "🎉", true, t0)
			must(t, err)
			room, err := db.Room(ctx, r.ID, a.ID)
			must(t, err)
			if room.LastMessage == nil || cmp.Diff(rs, room.LastMessage.Reactions) != "" {
				t.Fatalf("last message reactions = %+v, want %+v", room.LastMessage, rs)
			}
			_, err = db.SetReaction(ctx, r.ID, 99, a.ID, "👍", true, t0)
			wantCode(t, err, plop.ENotFound)
		})
	})
}

// gateCommitters replaces the committers of db by one that waits before each batch until
// the returned open is called, so that sends stay queued meanwhile.
func gateCommitters(t *testing.T, db *DB) (open func()) {
	t.Helper()
	db.gc.close()
	gate := make(chan struct{})
	db.startCommitters(1, gate)
	var once sync.Once
	open = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(open)
	return open
}

// waitQueued waits until n sends are queued on db.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(db.gc.queue) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d sends queued, want %d", len(db.gc.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// sendResult is what one CreateMessage returned.
type sendResult struct {
	m       plop.Message
	created bool
	err     error
}

// sendAsync runs CreateMessage in a goroutine and returns where its result arrives.
func sendAsync(ctx context.Context, db *DB, m plop.Message) <-chan sendResult {
	out := make(chan sendResult, 1)
	go func() {
		got, created, err := db.CreateMessage(ctx, &m)
		out <- sendResult{got, created, err}
	}()
	return out
}

// roomSeqs returns every seq stored in room, ascending, failing on a seq seen twice.
func roomSeqs(t *testing.T, db *DB, roomID string) []int64 {
	t.Helper()
	var seqs []int64
	after := int64(0)
	for {
		page, err := db.Messages(context.Background(), roomID, 0, after, plop.MaxPageSize)
		must(t, err)
		if len(page) == 0 {
			return seqs
		}
		for _, m := range page {
			if len(seqs) > 0 && m.Seq <= seqs[len(seqs)-1] {
				t.Fatalf("room %s: seq %d after %d", roomID, m.Seq, seqs[len(seqs)-1])
			}
			seqs = append(seqs, m.Seq)
		}
		after = page[len(page)-1].Seq
	}
}

// wantSeqs fails unless room holds exactly the seqs 1..n and its last seq is n.
func wantSeqs(t *testing.T, db *DB, roomID, userID string, n int) {
	t.Helper()
	seqs := roomSeqs(t, db, roomID)
	if len(seqs) != n {
		t.Fatalf("room %s holds %d messages, want %d", roomID, len(seqs), n)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("room %s: message %d has seq %d, want %d", roomID, i, s, i+1)
		}
	}
	room, err := db.Room(context.Background(), roomID, userID)
	must(t, err)
	if room.LastSeq != int64(n) {
		t.Fatalf("room %s: last seq %d, want %d", roomID, room.LastSeq, n)
	}
}

func TestGroupCommit(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()

		t.Run("many senders into a few rooms get gap-free seqs", func(t *testing.T) {
			const senders, each, roomCount = 24, 15, 3
			users := make([]plop.User, senders)
			for i := range users {
				users[i] = mustUser(t, db, fmt.Sprintf("G%d", i))
			}
			rooms := make([]plop.Room, roomCount)
			for i := range rooms {
				rooms[i] = mustRoom(t, db, t0, users...)
			}
			var wg sync.WaitGroup
			errs := make(chan error, senders)
			for i := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := range each {
						m, created, err := db.CreateMessage(ctx, &plop.Message{RoomID: rooms[(i+j)%roomCount].ID, SenderID: users[i].ID,
							Body: fmt.Sprintf("%d-%d", i, j), ClientMsgID: fmt.Sprintf("g%d-%d", i, j), CreatedAt: t0})
						if err != nil || !created || m.Seq < 1 {
							errs <- fmt.Errorf("sender %d message %d: seq=%d created=%v err=%v", i, j, m.Seq, created, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			total := 0
			for _, r := range rooms {
				n := len(roomSeqs(t, db, r.ID))
				wantSeqs(t, db, r.ID, users[0].ID, n)
				total += n
			}
			if total != senders*each {
				t.Fatalf("%d messages stored, want %d", total, senders*each)
			}
		})

		t.Run("concurrent sends with one client_msg_id store one message", func(t *testing.T) {
			a := mustUser(t, db, "Da")
			r := mustRoom(t, db, t0, a)
			const n = 16
			start := make(chan struct{})
			results := make(chan sendResult, n)
			for i := range n {
				go func() {
					<-start
					m, created, err := db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: a.ID,
						Body: fmt.Sprint("try ", i), ClientMsgID: "same", CreatedAt: t0})
					results <- sendResult{m, created, err}
				}()
			}
			close(start)
			createdCount, id := 0, ""
			for range n {
				res := <-results
				must(t, res.err)
				if res.created {
					createdCount++
				}
				if id == "" {
					id = res.m.ID
				}
				if res.m.ID != id || res.m.Seq != 1 {
					t.Fatalf("got message %s seq %d, want %s seq 1", res.m.ID, res.m.Seq, id)
				}
			}
			if createdCount != 1 {
				t.Fatalf("%d sends created, want 1", createdCount)
			}
			wantSeqs(t, db, r.ID, a.ID, 1)
		})

		t.Run("a failing message fails alone in its batch", func(t *testing.T) {
			open := gateCommitters(t, db)
			a, b := mustUser(t, db, "Fa"), mustUser(t, db, "Fb")
			r := mustRoom(t, db, t0, a, b)
			sends := []plop.Message{
				{RoomID: r.ID, SenderID: a.ID, Body: "one", ClientMsgID: "k1", CreatedAt: t0},
				{RoomID: r.ID, SenderID: a.ID, Body: "one again", ClientMsgID: "k1", CreatedAt: t0},
				{RoomID: "missing", SenderID: a.ID, Body: "lost", CreatedAt: t0},
				{RoomID: r.ID, SenderID: b.ID, Body: "bad attachment", AttachmentIDs: []string{"nope"}, CreatedAt: t0},
				{RoomID: r.ID, SenderID: b.ID, Body: "two", ClientMsgID: "k1", CreatedAt: t0},
			}
			var outs []<-chan sendResult
			for i, m := range sends {
				outs = append(outs, sendAsync(ctx, db, m))
				waitQueued(t, db, i+1) // in this order, in one batch
			}
			open()
			res := make([]sendResult, len(sends))
			for i, out := range outs {
				res[i] = <-out
			}
			must(t, res[0].err)
			must(t, res[1].err)
			if !res[0].created || res[1].created || res[1].m.ID != res[0].m.ID || res[1].m.Body != "one" {
				t.Fatalf("duplicate in one batch: first %+v created=%v, second %+v created=%v", res[0].m, res[0].created, res[1].m, res[1].created)
			}
			wantCode(t, res[2].err, plop.ENotFound)
			wantCode(t, res[3].err, plop.EInvalid)
			must(t, res[4].err)
			if !res[4].created || res[4].m.Seq != 2 || res[0].m.Seq != 1 {
				t.Fatalf("seqs %d and %d (created %v), want 1 and 2", res[0].m.Seq, res[4].m.Seq, res[4].created)
			}
			wantSeqs(t, db, r.ID, a.ID, 2)
			for i, seq := range []int64{1, 2} {
				got, err := db.Message(ctx, r.ID, seq)
				must(t, err)
				if want := res[[]int{0, 4}[i]].m; got.ID != want.ID || got.Body != want.Body {
					t.Fatalf("stored seq %d = %+v, want %+v", seq, got, want)
				}
			}
			// The sender's read pointer follows the message that was stored, not the ones
			// that failed.
			mb, err := db.Member(ctx, r.ID, b.ID)
			must(t, err)
			if mb.LastReadSeq != 2 {
				t.Fatalf("sender's read pointer = %d, want 2", mb.LastReadSeq)
			}
		})

		t.Run("a message to a missing room fails alone in its batch", func(t *testing.T) {
			open := gateCommitters(t, db)
			a := mustUser(t, db, "Ma")
			r := mustRoom(t, db, t0, a)
			sends := []plop.Message{
				{RoomID: r.ID, SenderID: a.ID, Body: "one", CreatedAt: t0},
				{RoomID: "missing", SenderID: a.ID, Body: "lost", ClientMsgID: "m", CreatedAt: t0},
				{RoomID: r.ID, SenderID: a.ID, Body: "two", ClientMsgID: "m", CreatedAt: t0.Add(time.Second)},
			}
			var outs []<-chan sendResult
			for i, m := range sends {
				outs = append(outs, sendAsync(ctx, db, m))
				waitQueued(t, db, i+1)
			}
			open()
			res := make([]sendResult, len(sends))
			for i, out := range outs {
				res[i] = <-out
			}
			must(t, res[0].err)
			wantCode(t, res[1].err, plop.ENotFound)
			must(t, res[2].err)
			if res[0].m.Seq != 1 || res[2].m.Seq != 2 || !res[2].created {
				t.Fatalf("seqs %d and %d, want 1 and 2", res[0].m.Seq, res[2].m.Seq)
			}
			wantSeqs(t, db, r.ID, a.ID, 2)
			room, err := db.Room(ctx, r.ID, a.ID)
			must(t, err)
			if !room.UpdatedAt.Equal(t0.Add(time.Second)) {
				t.Fatalf("room activity at %v, want the last message's time %v", room.UpdatedAt, t0.Add(time.Second))
			}
			mb, err := db.Member(ctx, r.ID, a.ID)
			must(t, err)
			if mb.LastReadSeq != 2 {
				t.Fatalf("sender's read pointer = %d, want 2", mb.LastReadSeq)
			}
		})

		t.Run("a duplicate committed by another batch", func(t *testing.T) {
			open := gateCommitters(t, db)
			a := mustUser(t, db, "Xa")
			r := mustRoom(t, db, t0, a)
			late := sendAsync(ctx, db, plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "late", ClientMsgID: "x", CreatedAt: t0})
			waitQueued(t, db, 1) // past the check for a stored duplicate
			first := &sendReq{m: &plop.Message{ID: newID("m"), RoomID: r.ID, SenderID: a.ID, Body: "first", ClientMsgID: "x"}, created: t0}
			db.commitBatch([]*sendReq{first})
			must(t, first.err)
			open()
			res := <-late
			must(t, res.err)
			if res.created || res.m.ID != first.m.ID || res.m.Body != "first" || res.m.Seq != first.seq {
				t.Fatalf("late send = %+v created=%v, want the first message (seq %d)", res.m, res.created, first.seq)
			}
			wantSeqs(t, db, r.ID, a.ID, 1)
		})

		t.Run("a send cancelled while queued stores nothing", func(t *testing.T) {
			open := gateCommitters(t, db)
			a := mustUser(t, db, "Ca")
			r := mustRoom(t, db, t0, a)
			cctx, cancel := context.WithCancel(ctx)
			out := sendAsync(cctx, db, plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "never", ClientMsgID: "c", CreatedAt: t0})
			waitQueued(t, db, 1)
			cancel()
			res := <-out
			if !errors.Is(res.err, context.Canceled) || res.created {
				t.Fatalf("cancelled send: created=%v err=%v, want context.Canceled", res.created, res.err)
			}
			open()
			m := mustSend(t, db, r.ID, a.ID, "after", t0)
			if m.Seq != 1 {
				t.Fatalf("next send got seq %d, want 1", m.Seq)
			}
			wantSeqs(t, db, r.ID, a.ID, 1)
			if _, err := db.messageByClientID(ctx, db.rq(), &plop.Message{RoomID: r.ID, SenderID: a.ID, ClientMsgID: "c"}); plop.ErrorCode(err) != plop.ENotFound {
				t.Fatalf("cancelled message lookup: %v, want not_found", err)
			}
		})

		t.Run("the default committers still run after the tests above", func(t *testing.T) {
			a := mustUser(t, db, "Ra")
			r := mustRoom(t, db, t0, a)
			mustSend(t, db, r.ID, a.ID, "hi", t0)
		})
	})
}

func TestGroupCommitClose(t *testing.T) {
	for _, o := range dbOpeners {
		t.Run(o.name, func(t *testing.T) {
			db := o.open(t)
			a := mustUser(t, db, "Za")
			r := mustRoom(t, db, t0, a)
			gateCommitters(t, db) // never opened: the sends stay queued
			const n = 5
			var outs []<-chan sendResult
			for i := range n {
				outs = append(outs, sendAsync(context.Background(), db, plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "queued", ClientMsgID: fmt.Sprint(i), CreatedAt: t0}))
			}
			waitQueued(t, db, n)
			closed := make(chan error, 1)
			go func() { closed <- db.Close() }()
			for i, out := range outs {
				select {
				case res := <-out:
					if res.err == nil || res.created {
						t.Fatalf("send %d after Close: created=%v err=%v, want an error", i, res.created, res.err)
					}
					wantCode(t, res.err, plop.EUnavailable)
				case <-time.After(30 * time.Second):
					t.Fatalf("send %d still waiting after Close", i)
				}
			}
			select {
			case err := <-closed:
				must(t, err)
			case <-time.After(30 * time.Second):
				t.Fatal("Close does not return")
			}
			_, _, err := db.CreateMessage(context.Background(), &plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "late", CreatedAt: t0})
			if err == nil {
				t.Fatal("a send after Close succeeded")
			}
		})
	}
}
