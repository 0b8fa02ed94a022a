package contract

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

// TestPresence checks the behaviour every plop.PresenceStore must have: a user is online while
// any of their connections is, the transitions are reported exactly once, last_seen is the
// time the last connection closed, and answers come in the order asked.
func TestPresence(t *testing.T, newPresence func(t *testing.T) plop.PresenceStore) {
	t.Run("TwoConnections", func(t *testing.T) {
		p := newPresence(t)
		u := newID("user")
		t0 := plop.UTC(time.Now())

		if came := connect(t, p, u, "c1", t0); !came {
			t.Fatal("first connection: cameOnline = false, want true")
		}
		wantPresence(t, p, u, true, nil)
		if came := connect(t, p, u, "c2", t0.Add(time.Second)); came {
			t.Fatal("second connection: cameOnline = true, want false")
		}
		if went := disconnect(t, p, u, "c1", t0.Add(2*time.Second)); went {
			t.Fatal("closing one of two connections: wentOffline = true, want false")
		}
		wantPresence(t, p, u, true, nil)

		t3 := t0.Add(3 * time.Second)
		if went := disconnect(t, p, u, "c2", t3); !went {
			t.Fatal("closing the last connection: wentOffline = false, want true")
		}
		wantPresence(t, p, u, false, &t3)

		if came := connect(t, p, u, "c3", t0.Add(4*time.Second)); !came {
			t.Fatal("connecting again after going offline: cameOnline = false, want true")
		}
		wantPresence(t, p, u, true, nil)
		t5 := t0.Add(5 * time.Second)
		if went := disconnect(t, p, u, "c3", t5); !went {
			t.Fatal("closing the only connection: wentOffline = false, want true")
		}
		wantPresence(t, p, u, false, &t5)
	})

	t.Run("SameConnectionTwice", func(t *testing.T) {
		p := newPresence(t)
		u := newID("user")
		now := plop.UTC(time.Now())
		connect(t, p, u, "c1", now)
		if came := connect(t, p, u, "c1", now); came {
			t.Fatal("the same connection again: cameOnline = true, want false")
		}
		if went := disconnect(t, p, u, "c1", now); !went {
			t.Fatal("a connection recorded twice is still one: wentOffline = false, want true")
		}
		wantPresence(t, p, u, false, &now)
	})

	t.Run("UnknownConnection", func(t *testing.T) {
		p := newPresence(t)
		u := newID("user")
		now := plop.UTC(time.Now())
		if went := disconnect(t, p, u, "never", now); went {
			t.Fatal("disconnecting a user who never connected: wentOffline = true, want false")
		}
		wantPresence(t, p, u, false, nil)

		connect(t, p, u, "c1", now)
		if went := disconnect(t, p, u, "other", now); went {
			t.Fatal("disconnecting an unknown connection: wentOffline = true, want false")
		}
		wantPresence(t, p, u, true, nil)
	})

	t.Run("UnknownUserIsOffline", func(t *testing.T) {
		p := newPresence(t)
		wantPresence(t, p, newID("nobody"), false, nil)
	})

	t.Run("OrderMatchesIDs", func(t *testing.T) {
		p := newPresence(t)
		on1, on2, off, unknown := newID("on1"), newID("on2"), newID("off"), newID("unknown")
		now := plop.UTC(time.Now())
		connect(t, p, on1, "a", now)
		connect(t, p, on2, "b", now)
		connect(t, p, off, "c", now)
		disconnect(t, p, off, "c", now)

		ids := []string{off, on2, unknown, on1, off}
		got, err := p.Presence(context.Background(), ids)
		if err != nil {
			t.Fatalf("presence: %v", err)
		}
		if len(got) != len(ids) {
			t.Fatalf("presence of %d ids returned %d entries", len(ids), len(got))
		}
		wantOnline := []bool{false, true, false, true, false}
		for i, pr := range got {
			if pr.UserID != ids[i] || pr.Online != wantOnline[i] {
				t.Errorf("entry %d = {%s online=%v}, want {%s online=%v}", i, pr.UserID, pr.Online, ids[i], wantOnline[i])
			}
		}
		if got[0].LastSeen == nil || !got[0].LastSeen.Equal(now) {
			t.Errorf("last_seen of the user who left = %v, want %v", got[0].LastSeen, now)
		}
		if got[2].LastSeen != nil {
			t.Errorf("last_seen of an unknown user = %v, want nil", got[2].LastSeen)
		}
	})

	t.Run("ConcurrentConnections", func(t *testing.T) {
		p := newPresence(t)
		u := newID("user")
		now := plop.UTC(time.Now())
		conns := make([]string, 32)
		for i := range conns {
			conns[i] = newID("conn")
		}
		// each runs f for every connection at once and counts the true answers.
		each := func(f func(ctx context.Context, user, conn string, now time.Time) (bool, error)) int32 {
			var n atomic.Int32
			var wg sync.WaitGroup
			for _, c := range conns {
				wg.Go(func() {
					ok, err := f(context.Background(), u, c, now)
					if err != nil {
						t.Errorf("%s: %v", c, err)
					}
					if ok {
						n.Add(1)
					}
				})
			}
			wg.Wait()
			return n.Load()
		}
		if n := each(p.Connect); n != 1 {
			t.Fatalf("%d concurrent first connections reported cameOnline %d times, want once", len(conns), n)
		}
		wantPresence(t, p, u, true, nil)
		if n := each(p.Disconnect); n != 1 {
			t.Fatalf("%d concurrent last disconnections reported wentOffline %d times, want once", len(conns), n)
		}
		wantPresence(t, p, u, false, &now)
	})
}

func connect(tb testing.TB, p plop.PresenceStore, user, conn string, now time.Time) bool {
	tb.Helper()
	came, err := p.Connect(context.Background(), user, conn, now)
	if err != nil {
		tb.Fatalf("connect %s/%s: %v", user, conn, err)
	}
	return came
}

func disconnect(tb testing.TB, p plop.PresenceStore, user, conn string, now time.Time) bool {
	tb.Helper()
	went, err := p.Disconnect(context.Background(), user, conn, now)
	if err != nil {
		tb.Fatalf("disconnect %s/%s: %v", user, conn, err)
	}
	return went
}

// wantPresence checks one user's presence. lastSeen is checked only while the user is
// offline: nil means "never seen leaving".
func wantPresence(tb testing.TB, p plop.PresenceStore, user string, online bool, lastSeen *time.Time) {
	tb.Helper()
	got, err := p.Presence(context.Background(), []string{user})
	if err != nil {
		tb.Fatalf("presence %s: %v", user, err)
	}
	if len(got) != 1 {
		tb.Fatalf("presence of one id returned %d entries", len(got))
	}
	pr := got[0]
	if pr.UserID != user || pr.Online != online {
		tb.Fatalf("presence = {%s online=%v}, want {%s online=%v}", pr.UserID, pr.Online, user, online)
	}
	if online {
		return
	}
	switch {
	case lastSeen == nil && pr.LastSeen != nil:
		tb.Fatalf("last_seen = %v, want nil", pr.LastSeen)
	case lastSeen != nil && (pr.LastSeen == nil || !pr.LastSeen.Equal(*lastSeen)):
		tb.Fatalf("last_seen = %v, want %v", pr.LastSeen, *lastSeen)
	}
}
