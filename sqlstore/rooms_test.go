package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plop-chat/plop"
)

// mustRoom creates a group room created by the first of members (admin) at at.
func mustRoom(tb testing.TB, db *DB, at time.Time, members ...plop.User) plop.Room {
	tb.Helper()
	r := plop.Room{Type: plop.RoomGroup, Name: "group", CreatedBy: members[0].ID, CreatedAt: at, UpdatedAt: at}
	for i, u := range members {
		role := plop.RoleMember
		if i == 0 {
			role = plop.RoleAdmin
		}
		r.Members = append(r.Members, plop.Member{UserID: u.ID, Role: role, JoinedAt: at})
	}
	id, created, err := db.CreateRoom(context.Background(), &r)
	if err != nil || !created || id != r.ID {
		tb.Fatalf("CreateRoom = %q, %v, %v", id, created, err)
	}
	return r
}

// mustSend stores a message from sender in room with body.
func mustSend(tb testing.TB, db *DB, roomID, senderID, body string, at time.Time) plop.Message {
	tb.Helper()
	m, created, err := db.CreateMessage(context.Background(), &plop.Message{RoomID: roomID, SenderID: senderID, Body: body, CreatedAt: at})
	if err != nil || !created {
		tb.Fatalf("CreateMessage: created=%v err=%v", created, err)
	}
	return m
}

func TestRoomStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()

		t.Run("direct room is idempotent by DirectKey", func(t *testing.T) {
			a, b := mustUser(t, db, "Da"), mustUser(t, db, "Db")
			mk := func() plop.Room {
				return plop.Room{Type: plop.RoomDirect, CreatedBy: a.ID, DirectKey: pairKey(a.ID, b.ID), CreatedAt: t0,
					Members: []plop.Member{{UserID: a.ID, Role: plop.RoleMember}, {UserID: b.ID, Role: plop.RoleMember}}}
			}
			r1 := mk()
			id1, created, err := db.CreateRoom(ctx, &r1)
			must(t, err)
			if !created || id1 == "" {
				t.Fatalf("first CreateRoom = %q, %v", id1, created)
			}
			r2 := mk()
			id2, created, err := db.CreateRoom(ctx, &r2)
			must(t, err)
			if created || id2 != id1 {
				t.Fatalf("second CreateRoom = %q, %v; want %q, false", id2, created, id1)
			}
			got, err := db.Room(ctx, id1, b.ID)
			must(t, err)
			if got.Type != plop.RoomDirect || got.DirectKey != pairKey(a.ID, b.ID) || len(got.Members) != 2 {
				t.Fatalf("Room = %+v", got)
			}
			ids, err := db.MemberIDs(ctx, id1)
			must(t, err)
			if len(ids) != 2 {
				t.Fatalf("MemberIDs = %v (a second room's members leaked in?)", ids)
			}
		})

		t.Run("room as seen by a member", func(t *testing.T) {
			a, b, outsider := mustUser(t, db, "Ra"), mustUser(t, db, "Rb"), mustUser(t, db, "Out")
			r := mustRoom(t, db, t0, a, b)
			got, err := db.Room(ctx, r.ID, b.ID)
			must(t, err)
			want := plop.Room{ID: r.ID, Type: plop.RoomGroup, Name: "group", CreatedBy: a.ID, CreatedAt: t0, UpdatedAt: t0,
				Members: []plop.Member{
					{UserID: a.ID, Role: plop.RoleAdmin, JoinedAt: t0, User: ptr(publicNoHash(a))},
					{UserID: b.ID, Role: plop.RoleMember, JoinedAt: t0, User: ptr(publicNoHash(b))},
				}}
			if len(got.Members) == 2 && got.Members[0].UserID != a.ID {
				got.Members[0], got.Members[1] = got.Members[1], got.Members[0]
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("Room (-want +got):\n%s", d)
			}
			_, err = db.Room(ctx, r.ID, outsider.ID)
			wantCode(t, err, plop.ENotFound)
			_, err = db.Room(ctx, "no-room", a.ID)
			wantCode(t, err, plop.ENotFound)
		})

		t.Run("unread counts and last message", func(t *testing.T) {
			a, b := mustUser(t, db, "Ua"), mustUser(t, db, "Ub")
			r := mustRoom(t, db, t0, a, b)
			for i := range 3 {
				mustSend(t, db, r.ID, a.ID, "hello", t0.Add(time.Duration(i+1)*time.Second))
			}
			last := mustSend(t, db, r.ID, b.ID, "last", t0.Add(time.Minute))
			ra, err := db.Room(ctx, r.ID, a.ID)
			must(t, err)
			rb, err := db.Room(ctx, r.ID, b.ID)
			must(t, err)
			if ra.UnreadCount != 1 || rb.UnreadCount != 0 || ra.LastSeq != 4 {
				t.Fatalf("unread a=%d b=%d last_seq=%d; want 1, 0, 4 (sending marks one's own messages read)", ra.UnreadCount, rb.UnreadCount, ra.LastSeq)
			}
			if ra.LastMessage == nil || ra.LastMessage.Seq != 4 || ra.LastMessage.Body != "last" || ra.LastMessage.ID != last.ID {
				t.Fatalf("LastMessage = %+v", ra.LastMessage)
			}
			if !ra.UpdatedAt.Equal(t0.Add(time.Minute)) {
				t.Fatalf("UpdatedAt = %v, want the last message time", ra.UpdatedAt)
			}
			ptrA, err := db.MarkRead(ctx, r.ID, a.ID, 4)
			must(t, err)
			ra, err = db.Room(ctx, r.ID, a.ID)
			must(t, err)
			if ptrA != 4 || ra.UnreadCount != 0 {
				t.Fatalf("after MarkRead: pointer %d unread %d", ptrA, ra.UnreadCount)
			}
		})

		t.Run("mark read is monotonic and bounded", func(t *testing.T) {
			a, b := mustUser(t, db, "Ma"), mustUser(t, db, "Mb")
			r := mustRoom(t, db, t0, a, b)
			for range 5 {
				mustSend(t, db, r.ID, a.ID, "x", t0)
			}
			for _, c := range []struct{ seq, want int64 }{{2, 2}, {1, 2}, {4, 4}, {99, 5}, {0, 5}, {-3, 5}} {
				got, err := db.MarkRead(ctx, r.ID, b.ID, c.seq)
				must(t, err)
				if got != c.want {
					t.Fatalf("MarkRead(%d) = %d, want %d", c.seq, got, c.want)
				}
			}
			m, err := db.Member(ctx, r.ID, b.ID)
			must(t, err)
			if m.LastReadSeq != 5 || m.Role != plop.RoleMember || !m.JoinedAt.Equal(t0) {
				t.Fatalf("Member = %+v", m)
			}
			_, err = db.MarkRead(ctx, r.ID, "stranger", 1)
			wantCode(t, err, plop.ENotFound)
		})

		t.Run("rooms ordered by activity with cursor paging", func(t *testing.T) {
			me, other := mustUser(t, db, "Lister"), mustUser(t, db, "Other")
			var rooms []plop.Room
			for i := range 5 {
				rooms = append(rooms, mustRoom(t, db, t0.Add(time.Duration(i)*time.Minute), me, other))
			}
			notMine := mustRoom(t, db, t0.Add(time.Hour), other)
			// Activity: a message in room 1 makes it the latest; rooms 3 and 4 tie.
			mustSend(t, db, rooms[1].ID, other.ID, "bump", t0.Add(30*time.Minute))
			must(t, db.UpdateRoom(ctx, rooms[4].ID, me.ID, nil, nil, t0)) // no name change: no touch
			name := "renamed"
			must(t, db.UpdateRoom(ctx, rooms[0].ID, me.ID, &name, nil, t0.Add(3*time.Minute)))

			var got []string
			cursor, pages := "", 0
			for {
				page, next, err := db.Rooms(ctx, me.ID, cursor, 2)
				must(t, err)
				pages++
				for _, r := range page {
					got = append(got, r.ID)
					if len(r.Members) != 2 {
						t.Fatalf("room %s has %d members", r.ID, len(r.Members))
					}
					for _, m := range r.Members {
						if m.User == nil || m.User.Email != "" || m.User.Name == "" {
							t.Fatalf("member user = %+v", m.User)
						}
					}
				}
				if next == "" {
					break
				}
				cursor = next
			}
			tie := []string{max(rooms[0].ID, rooms[3].ID), min(rooms[0].ID, rooms[3].ID)}
			want := []string{rooms[1].ID, rooms[4].ID, tie[0], tie[1], rooms[2].ID}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("Rooms order (-want +got):\n%s", d)
			}
			if pages != 3 {
				t.Fatalf("pages = %d, want 3", pages)
			}
			for _, id := range got {
				if id == notMine.ID {
					t.Fatal("a room of someone else was listed")
				}
			}
			all, next, err := db.Rooms(ctx, me.ID, "", 5)
			must(t, err)
			if len(all) != 5 || next != "" {
				t.Fatalf("exact page: %d rooms, next %q", len(all), next)
			}
			if all[0].LastMessage == nil || all[0].LastMessage.Body != "bump" || all[1].LastMessage != nil {
				t.Fatalf("last messages: %+v / %+v", all[0].LastMessage, all[1].LastMessage)
			}
			if all[0].UnreadCount != 1 {
				t.Fatalf("unread in listed room = %d, want 1", all[0].UnreadCount)
			}
			_, _, err = db.Rooms(ctx, me.ID, "%%%", 5)
			wantCode(t, err, plop.EInvalid)
		})

		t.Run("update room name and mute", func(t *testing.T) {
			a, b := mustUser(t, db, "Na"), mustUser(t, db, "Nb")
			r := mustRoom(t, db, t0, a, b)
			name := "New name"
			must(t, db.UpdateRoom(ctx, r.ID, a.ID, &name, ptr(true), t0.Add(time.Hour)))
			ra, err := db.Room(ctx, r.ID, a.ID)
			must(t, err)
			rb, err := db.Room(ctx, r.ID, b.ID)
			must(t, err)
			if ra.Name != name || !ra.Muted || rb.Muted || !ra.UpdatedAt.Equal(t0.Add(time.Hour)) {
				t.Fatalf("after update: a=%+v b.muted=%v", ra, rb.Muted)
			}
			must(t, db.UpdateRoom(ctx, r.ID, a.ID, nil, ptr(false), t0.Add(2*time.Hour)))
			ra, err = db.Room(ctx, r.ID, a.ID)
			must(t, err)
			if ra.Muted || !ra.UpdatedAt.Equal(t0.Add(time.Hour)) {
				t.Fatalf("unmute: muted=%v updated=%v (mute must not touch activity)", ra.Muted, ra.UpdatedAt)
			}
			wantCode(t, db.UpdateRoom(ctx, "missing", a.ID, &name, nil, t0), plop.ENotFound)
			wantCode(t, db.UpdateRoom(ctx, r.ID, "stranger", nil, ptr(true), t0), plop.ENotFound)
		})

		t.Run("add and remove members", func(t *testing.T) {
			a, b, c, d := mustUser(t, db, "Aa"), mustUser(t, db, "Ab"), mustUser(t, db, "Ac"), mustUser(t, db, "Ad")
			r := mustRoom(t, db, t0, a, b)
			mustSend(t, db, r.ID, a.ID, "before c joined", t0)
			added, err := db.AddMembers(ctx, r.ID, []plop.Member{{UserID: b.ID}, {UserID: c.ID}, {UserID: d.ID, Role: plop.RoleAdmin}}, t0.Add(time.Hour))
			must(t, err)
			if len(added) != 2 || added[0].UserID != c.ID || added[0].Role != plop.RoleMember || added[1].Role != plop.RoleAdmin ||
				!added[0].JoinedAt.Equal(t0.Add(time.Hour)) {
				t.Fatalf("added = %+v", added)
			}
			rc, err := db.Room(ctx, r.ID, c.ID)
			must(t, err)
			if rc.UnreadCount != 0 || len(rc.Members) != 4 || !rc.UpdatedAt.Equal(t0.Add(time.Hour)) {
				t.Fatalf("new member view: unread %d, %d members, updated %v", rc.UnreadCount, len(rc.Members), rc.UpdatedAt)
			}
			must(t, db.RemoveMember(ctx, r.ID, b.ID, t0.Add(2*time.Hour)))
			wantCode(t, db.RemoveMember(ctx, r.ID, b.ID, t0), plop.ENotFound)
			_, err = db.Member(ctx, r.ID, b.ID)
			wantCode(t, err, plop.ENotFound)
			_, err = db.Room(ctx, r.ID, b.ID)
			wantCode(t, err, plop.ENotFound)
			ids, err := db.MemberIDs(ctx, r.ID)
			must(t, err)
			if d := cmp.Diff([]string{a.ID, c.ID, d.ID}, ids); d != "" {
				t.Fatalf("MemberIDs (-want +got):\n%s", d)
			}
			_, err = db.AddMembers(ctx, "missing", []plop.Member{{UserID: c.ID}}, t0)
			wantCode(t, err, plop.ENotFound)
		})
	})
}

// publicNoHash is u as a member list shows it: no e-mail, no password hash.
func publicNoHash(u plop.User) plop.User {
	u = u.Public()
	u.PasswordHash = ""
	return u
}
