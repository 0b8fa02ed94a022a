package sqlstore

import (
	"context"
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
