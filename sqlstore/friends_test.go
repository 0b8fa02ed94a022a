package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plop-chat/plop"
)

// mustRequest stores a friend request from a to b at t.
func mustRequest(tb testing.TB, db *DB, from, to string, at time.Time) plop.FriendRequest {
	tb.Helper()
	r := plop.FriendRequest{FromID: from, ToID: to, CreatedAt: at}
	if err := db.CreateFriendRequest(context.Background(), &r); err != nil {
		tb.Fatalf("create friend request: %v", err)
	}
	return r
}

// mustFriends makes a and b friends.
func mustFriends(tb testing.TB, db *DB, a, b string) {
	tb.Helper()
	r := mustRequest(tb, db, a, b, t0)
	if err := db.AcceptFriendRequest(context.Background(), r.ID, t0); err != nil {
		tb.Fatalf("accept: %v", err)
	}
}

func TestFriendStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()

		t.Run("request conflicts in both directions", func(t *testing.T) {
			a, b := mustUser(t, db, "A"), mustUser(t, db, "B")
			r := mustRequest(t, db, a.ID, b.ID, t0)
			if r.ID == "" {
				t.Fatal("request id not filled in")
			}
			wantCode(t, db.CreateFriendRequest(ctx, &plop.FriendRequest{FromID: a.ID, ToID: b.ID, CreatedAt: t0}), plop.EConflict)
			wantCode(t, db.CreateFriendRequest(ctx, &plop.FriendRequest{FromID: b.ID, ToID: a.ID, CreatedAt: t0}), plop.EConflict)
			got, err := db.FriendRequest(ctx, r.ID)
			must(t, err)
			if got.FromID != a.ID || got.ToID != b.ID || !got.CreatedAt.Equal(t0) {
				t.Fatalf("FriendRequest = %+v", got)
			}
		})

		t.Run("accept makes both friends", func(t *testing.T) {
			a, b := mustUser(t, db, "Ann"), mustUser(t, db, "Ben")
			r := mustRequest(t, db, a.ID, b.ID, t0)
			since := t0.Add(time.Hour)
			must(t, db.AcceptFriendRequest(ctx, r.ID, since))
			for _, p := range [][2]string{{a.ID, b.ID}, {b.ID, a.ID}} {
				ok, err := db.AreFriends(ctx, p[0], p[1])
				must(t, err)
				if !ok {
					t.Fatalf("AreFriends(%s, %s) = false after accept", p[0], p[1])
				}
			}
			fa, err := db.Friends(ctx, a.ID)
			must(t, err)
			want := []plop.Friend{{User: b.Public(), Since: since}}
			want[0].User.PasswordHash = ""
			if d := cmp.Diff(want, fa); d != "" {
				t.Fatalf("Friends(a) (-want +got):\n%s", d)
			}
			_, err = db.FriendRequest(ctx, r.ID)
			wantCode(t, err, plop.ENotFound)
			wantCode(t, db.AcceptFriendRequest(ctx, r.ID, since), plop.ENotFound)
			// A new request between friends is not the store's business; the old one is gone.
			mustRequest(t, db, b.ID, a.ID, t0)
		})

		t.Run("friends ordered by name, only own", func(t *testing.T) {
			me := mustUser(t, db, "Me")
			zoe, adam, bea := mustUser(t, db, "zoe"), mustUser(t, db, "Adam"), mustUser(t, db, "bea")
			stranger := mustUser(t, db, "Stranger")
			for _, u := range []plop.User{zoe, adam, bea} {
				mustFriends(t, db, me.ID, u.ID)
			}
			mustFriends(t, db, stranger.ID, zoe.ID)
			fs, err := db.Friends(ctx, me.ID)
			must(t, err)
			var names []string
			for _, f := range fs {
				names = append(names, f.User.Name)
				if f.User.Email != "" || f.User.PasswordHash != "" {
					t.Fatalf("friend %s carries private fields: %+v", f.User.Name, f.User)
				}
			}
			if d := cmp.Diff([]string{"Adam", "bea", "zoe"}, names); d != "" {
				t.Fatalf("Friends names (-want +got):\n%s", d)
			}
			none, err := db.Friends(ctx, "nobody")
			must(t, err)
			if none == nil || len(none) != 0 {
				t.Fatalf("Friends(nobody) = %#v, want empty non-nil", none)
			}
		})

		t.Run("delete friendship", func(t *testing.T) {
			a, b := mustUser(t, db, "Del1"), mustUser(t, db, "Del2")
			mustFriends(t, db, a.ID, b.ID)
			must(t, db.DeleteFriendship(ctx, b.ID, a.ID))
			for _, p := range [][2]string{{a.ID, b.ID}, {b.ID, a.ID}} {
				ok, err := db.AreFriends(ctx, p[0], p[1])
				must(t, err)
				if ok {
					t.Fatalf("still friends after delete")
				}
			}
			wantCode(t, db.DeleteFriendship(ctx, a.ID, b.ID), plop.ENotFound)
		})

		t.Run("delete request", func(t *testing.T) {
			a, b := mustUser(t, db, "R1"), mustUser(t, db, "R2")
			r := mustRequest(t, db, a.ID, b.ID, t0)
			must(t, db.DeleteFriendRequest(ctx, r.ID))
			wantCode(t, db.DeleteFriendRequest(ctx, r.ID), plop.ENotFound)
			_, err := db.FriendRequest(ctx, r.ID)
			wantCode(t, err, plop.ENotFound)
			mustRequest(t, db, b.ID, a.ID, t0) // the pair is free again
		})

		t.Run("request lists page newest first", func(t *testing.T) {
			me := mustUser(t, db, "Popular")
			var senders []plop.User
			var ids []string
			for i := range 5 {
				s := mustUser(t, db, "Sender")
				senders = append(senders, s)
				// Two requests share a timestamp to exercise the id tie-break.
				at := t0.Add(time.Duration(min(i, 3)) * time.Minute)
				ids = append(ids, mustRequest(t, db, s.ID, me.ID, at).ID)
			}
			out := mustUser(t, db, "Target")
			mustRequest(t, db, me.ID, out.ID, t0)

			var got []string
			cursor := ""
			pages := 0
			for {
				page, next, err := db.FriendRequests(ctx, me.ID, plop.Incoming, cursor, 2)
				must(t, err)
				pages++
				for _, r := range page {
					got = append(got, r.ID)
					if r.From == nil || r.From.ID != r.FromID || r.From.Email != "" || r.To != nil {
						t.Fatalf("incoming request other party = %+v / %+v", r.From, r.To)
					}
				}
				if next == "" {
					break
				}
				cursor = next
			}
			// Newest first; ids 3 and 4 share a time, the larger id first.
			want := []string{max(ids[3], ids[4]), min(ids[3], ids[4]), ids[2], ids[1], ids[0]}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("incoming (-want +got):\n%s", d)
			}
			if pages != 3 {
				t.Fatalf("pages = %d, want 3", pages)
			}
			outgoing, next, err := db.FriendRequests(ctx, me.ID, plop.Outgoing, "", 10)
			must(t, err)
			if len(outgoing) != 1 || next != "" || outgoing[0].To == nil || outgoing[0].To.ID != out.ID || outgoing[0].From != nil {
				t.Fatalf("outgoing = %+v next %q", outgoing, next)
			}
			_, _, err = db.FriendRequests(ctx, me.ID, plop.Incoming, "garbage!", 10)
			wantCode(t, err, plop.EInvalid)
			_, _, err = db.FriendRequests(ctx, me.ID, "sideways", "", 10)
			wantCode(t, err, plop.EInvalid)
		})
	})
}

func TestBlockStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()

		t.Run("block removes friendship and requests, both directions", func(t *testing.T) {
			a, b, c := mustUser(t, db, "Blocker"), mustUser(t, db, "Blocked"), mustUser(t, db, "Bystander")
			mustFriends(t, db, a.ID, b.ID)
			mustFriends(t, db, a.ID, c.ID)
			must(t, db.DeleteFriendship(ctx, a.ID, b.ID))
			r := mustRequest(t, db, b.ID, a.ID, t0)
			must(t, db.Block(ctx, a.ID, b.ID, t0))
			_, err := db.FriendRequest(ctx, r.ID)
			wantCode(t, err, plop.ENotFound)
			for _, p := range [][2]string{{a.ID, b.ID}, {b.ID, a.ID}} {
				blocked, err := db.Blocked(ctx, p[0], p[1])
				must(t, err)
				if !blocked {
					t.Fatalf("Blocked(%s, %s) = false", p[0], p[1])
				}
			}
			ok, err := db.AreFriends(ctx, a.ID, c.ID)
			must(t, err)
			if !ok {
				t.Fatal("block removed an unrelated friendship")
			}
			blocked, err := db.Blocked(ctx, a.ID, c.ID)
			must(t, err)
			if blocked {
				t.Fatal("unrelated pair reported blocked")
			}
			must(t, db.Block(ctx, a.ID, b.ID, t0.Add(time.Minute))) // twice is fine
			must(t, db.Unblock(ctx, a.ID, b.ID))
			blocked, err = db.Blocked(ctx, b.ID, a.ID)
			must(t, err)
			if blocked {
				t.Fatal("still blocked after unblock")
			}
			must(t, db.Unblock(ctx, a.ID, b.ID)) // unblocking again is fine
		})

		t.Run("block removes a friendship", func(t *testing.T) {
			a, b := mustUser(t, db, "F1"), mustUser(t, db, "F2")
			mustFriends(t, db, a.ID, b.ID)
			must(t, db.Block(ctx, b.ID, a.ID, t0))
			for _, p := range [][2]string{{a.ID, b.ID}, {b.ID, a.ID}} {
				ok, err := db.AreFriends(ctx, p[0], p[1])
				must(t, err)
				if ok {
					t.Fatal("still friends after block")
				}
			}
		})

		t.Run("one-way unblock leaves the other block", func(t *testing.T) {
			a, b := mustUser(t, db, "M1"), mustUser(t, db, "M2")
			must(t, db.Block(ctx, a.ID, b.ID, t0))
			must(t, db.Block(ctx, b.ID, a.ID, t0))
			must(t, db.Unblock(ctx, a.ID, b.ID))
			blocked, err := db.Blocked(ctx, a.ID, b.ID)
			must(t, err)
			if !blocked {
				t.Fatal("b's block of a vanished when a unblocked b")
			}
		})
	})
}
