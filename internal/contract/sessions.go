package contract

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

// TestSessionStore checks the behaviour every plop.SessionStore must have: rotation mints a
// successor and extends the session, presenting a spent token revokes the whole family (its
// live successor included), expired, unknown and revoked tokens are refused without being
// taken for reuse, logout works through any token of the family, and two rotations of one
// token never both succeed.
//
// Sessions belong to users. When the store is also a user store (it has CreateUser, as the
// SQL store has, whose sessions reference real users) the suite creates a user per session;
// otherwise it uses fresh ids. Times are near the real clock, so that stores with TTLs keep
// what the suite reads back.
func TestSessionStore(t *testing.T, newStore func(t *testing.T) plop.SessionStore) {
	ctx := context.Background()
	base := plop.UTC(time.Now())
	day := 24 * time.Hour

	// newSession stores a fresh session, valid for a day from base, with first as its token.
	newSession := func(t *testing.T, st plop.SessionStore) (plop.Session, string) {
		t.Helper()
		s := plop.Session{ID: newID("session"), UserID: newUser(t, st), CreatedAt: base, ExpiresAt: base.Add(day)}
		first := newID("hash")
		if err := st.CreateSession(ctx, s, first); err != nil {
			t.Fatalf("create session: %v", err)
		}
		return s, first
	}
	rotate := func(t *testing.T, st plop.SessionStore, old, next string, expires, now time.Time) plop.Session {
		t.Helper()
		s, err := st.RotateRefreshToken(ctx, old, next, expires, now)
		if err != nil {
			t.Fatalf("rotate %s: %v", old, err)
		}
		return s
	}

	t.Run("Rotation", func(t *testing.T) {
		st := newStore(t)
		s, h1 := newSession(t, st)
		h2, h3 := newID("hash"), newID("hash")
		got := rotate(t, st, h1, h2, base.Add(2*day), base.Add(time.Hour))
		want := s
		want.ExpiresAt = base.Add(2 * day)
		wantSession(t, "after one rotation", got, want)

		got = rotate(t, st, h2, h3, base.Add(3*day), base.Add(2*time.Hour))
		want.ExpiresAt = base.Add(3 * day)
		wantSession(t, "after two rotations", got, want)
	})

	t.Run("SessionRevoked", func(t *testing.T) {
		st := newStore(t)
		revoked := func(id string) bool {
			t.Helper()
			r, err := st.SessionRevoked(ctx, id)
			if err != nil {
				t.Fatalf("session revoked %s: %v", id, err)
			}
			return r
		}
		s, h1 := newSession(t, st)
		if revoked(s.ID) {
			t.Fatal("a fresh session counts as revoked")
		}
		reused, h2 := newSession(t, st)
		rotate(t, st, h2, newID("hash"), base.Add(2*day), base.Add(time.Minute))
		if _, err := st.RotateRefreshToken(ctx, h2, newID("hash"), base.Add(2*day), base.Add(2*time.Minute)); err == nil {
			t.Fatal("reuse accepted")
		}
		if !revoked(reused.ID) {
			t.Error("a session whose token was reused is not revoked")
		}
		if _, err := st.RevokeSession(ctx, h1, base.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if !revoked(s.ID) {
			t.Error("a logged-out session is not revoked")
		}
		if revoked(newID("session")) {
			t.Error("an unknown session counts as revoked")
		}
	})

	t.Run("ReuseRevokesTheFamily", func(t *testing.T) {
		st := newStore(t)
		_, h1 := newSession(t, st)
		h2 := newID("hash")
		rotate(t, st, h1, h2, base.Add(2*day), base.Add(time.Minute))

		evil := newID("hash")
		_, err := st.RotateRefreshToken(ctx, h1, evil, base.Add(2*day), base.Add(2*time.Minute))
		if !errors.Is(err, plop.ErrRefreshTokenReused) || plop.ErrorCode(err) != plop.EUnauthenticated {
			t.Fatalf("presenting a spent token: err = %v, want ErrRefreshTokenReused", err)
		}
		// The legitimate successor, unspent and unexpired, dies with its family.
		_, err = st.RotateRefreshToken(ctx, h2, newID("hash"), base.Add(2*day), base.Add(3*time.Minute))
		wantUnauthenticated(t, "the successor of a reused token", err)
		// The token the refused reuse would have minted does not exist.
		_, err = st.RotateRefreshToken(ctx, evil, newID("hash"), base.Add(2*day), base.Add(3*time.Minute))
		wantUnauthenticated(t, "the token minted by a refused reuse", err)
		if errors.Is(err, plop.ErrRefreshTokenReused) {
			t.Fatal("a token that was never stored was taken for a spent one")
		}
	})

	t.Run("ExpiredToken", func(t *testing.T) {
		st := newStore(t)
		s, h1 := newSession(t, st)
		// A token is dead from the instant it expires.
		_, err := st.RotateRefreshToken(ctx, h1, newID("hash"), base.Add(2*day), s.ExpiresAt)
		wantUnauthenticated(t, "an expired token", err)
		if errors.Is(err, plop.ErrRefreshTokenReused) {
			t.Fatal("an expired token was taken for reuse")
		}
		// Refusing it did not spend it: a second try is refused the same way.
		_, err = st.RotateRefreshToken(ctx, h1, newID("hash"), base.Add(2*day), s.ExpiresAt.Add(time.Second))
		wantUnauthenticated(t, "an expired token, again", err)
		if errors.Is(err, plop.ErrRefreshTokenReused) {
			t.Fatal("a refused expired token was taken for reuse")
		}
		// Just before expiry it was still good.
		_, h := newSession(t, st)
		rotate(t, st, h, newID("hash"), base.Add(2*day), s.ExpiresAt.Add(-time.Millisecond))
	})

	t.Run("UnknownToken", func(t *testing.T) {
		st := newStore(t)
		_, err := st.RotateRefreshToken(ctx, newID("hash"), newID("hash"), base.Add(day), base)
		wantUnauthenticated(t, "rotating an unknown token", err)
		if errors.Is(err, plop.ErrRefreshTokenReused) {
			t.Fatal("an unknown token was taken for reuse")
		}
		_, err = st.RevokeSession(ctx, newID("hash"), base)
		wantUnauthenticated(t, "revoking through an unknown token", err)
	})

	t.Run("Logout", func(t *testing.T) {
		st := newStore(t)
		s, h1 := newSession(t, st)
		h2 := newID("hash")
		rotate(t, st, h1, h2, base.Add(2*day), base.Add(time.Minute))

		// A spent token of the family is enough to revoke it.
		at := base.Add(time.Hour)
		got, err := st.RevokeSession(ctx, h1, at)
		if err != nil {
			t.Fatalf("revoke: %v", err)
		}
		want := s
		want.ExpiresAt, want.RevokedAt = base.Add(2*day), &at
		wantSession(t, "the revoked session", got, want)

		_, err = st.RotateRefreshToken(ctx, h2, newID("hash"), base.Add(2*day), base.Add(2*time.Hour))
		wantUnauthenticated(t, "rotating in a revoked session", err)

		// Revoking again keeps the first revocation time.
		got, err = st.RevokeSession(ctx, h2, base.Add(5*time.Hour))
		if err != nil {
			t.Fatalf("revoke again: %v", err)
		}
		wantSession(t, "the session revoked twice", got, want)
	})

	t.Run("SessionsAreIndependent", func(t *testing.T) {
		st := newStore(t)
		_, a := newSession(t, st)
		_, b := newSession(t, st)
		if _, err := st.RevokeSession(ctx, a, base.Add(time.Minute)); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		rotate(t, st, b, newID("hash"), base.Add(2*day), base.Add(2*time.Minute))
	})

	t.Run("DuplicatesConflict", func(t *testing.T) {
		st := newStore(t)
		s, h1 := newSession(t, st)
		if err := st.CreateSession(ctx, s, newID("hash")); plop.ErrorCode(err) != plop.EConflict {
			t.Fatalf("creating a session with a taken id: err = %v, want conflict", err)
		}
		other := plop.Session{ID: newID("session"), UserID: s.UserID, CreatedAt: base, ExpiresAt: base.Add(day)}
		if err := st.CreateSession(ctx, other, h1); plop.ErrorCode(err) != plop.EConflict {
			t.Fatalf("creating a session with a taken token: err = %v, want conflict", err)
		}
		// The first session is untouched.
		rotate(t, st, h1, newID("hash"), base.Add(2*day), base.Add(time.Minute))
	})

	t.Run("ConcurrentRotationsOfOneToken", func(t *testing.T) {
		st := newStore(t)
		_, h1 := newSession(t, st)
		const n = 8
		next := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			next[i] = newID("hash")
			wg.Go(func() {
				_, errs[i] = st.RotateRefreshToken(ctx, h1, next[i], base.Add(2*day), base.Add(time.Minute))
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("two concurrent rotations of one token succeeded (%d and %d)", winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, plop.ErrRefreshTokenReused):
				t.Fatalf("a losing concurrent rotation: err = %v, want ErrRefreshTokenReused", err)
			}
		}
		if winner < 0 {
			t.Fatalf("none of %d concurrent rotations succeeded: %v", n, errs)
		}
		// The losers presented a spent token: the family, winner included, is revoked.
		_, err := st.RotateRefreshToken(ctx, next[winner], newID("hash"), base.Add(2*day), base.Add(2*time.Minute))
		wantUnauthenticated(t, "the winner's successor after a detected reuse", err)
	})
}

// newUser returns the id of a user to own a session: a stored user when st can store users,
// else a fresh id.
func newUser(t *testing.T, st any) string {
	t.Helper()
	users, ok := st.(interface {
		CreateUser(ctx context.Context, u *plop.User) error
	})
	if !ok {
		return newID("user")
	}
	id := newID("user")
	u := &plop.User{ID: id, Email: id + "@example.com", Name: "Session Owner", PasswordHash: "x",
		Verified: true, CreatedAt: plop.UTC(time.Now())}
	if err := users.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("create the owner of a session: %v", err)
	}
	return u.ID
}

func wantSession(tb testing.TB, what string, got, want plop.Session) {
	tb.Helper()
	sameTime := func(a, b *time.Time) bool {
		if a == nil || b == nil {
			return a == b
		}
		return a.Equal(*b)
	}
	if got.ID != want.ID || got.UserID != want.UserID || !got.CreatedAt.Equal(want.CreatedAt) ||
		!got.ExpiresAt.Equal(want.ExpiresAt) || !sameTime(got.RevokedAt, want.RevokedAt) {
		tb.Fatalf("%s = %s, want %s", what, fmtSession(got), fmtSession(want))
	}
}

func fmtSession(s plop.Session) string {
	revoked := "never"
	if s.RevokedAt != nil {
		revoked = s.RevokedAt.Format(time.RFC3339Nano)
	}
	return "{id " + s.ID + " user " + s.UserID + " created " + s.CreatedAt.Format(time.RFC3339Nano) +
		" expires " + s.ExpiresAt.Format(time.RFC3339Nano) + " revoked " + revoked + "}"
}

func wantUnauthenticated(tb testing.TB, what string, err error) {
	tb.Helper()
	if plop.ErrorCode(err) != plop.EUnauthenticated {
		tb.Fatalf("%s: err = %v, want unauthenticated", what, err)
	}
}
