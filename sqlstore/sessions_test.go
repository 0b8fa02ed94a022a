package sqlstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

func TestSessionStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		newSession := func(t *testing.T, first string) plop.Session {
			t.Helper()
			u := mustUser(t, db, "Sess")
			s := plop.Session{ID: newID("s"), UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
			must(t, db.CreateSession(ctx, s, first))
			return s
		}

		t.Run("rotation", func(t *testing.T) {
			s := newSession(t, "h1")
			exp2 := t0.Add(48 * time.Hour)
			got, err := db.RotateRefreshToken(ctx, "h1", "h2", exp2, t0.Add(time.Hour))
			must(t, err)
			if got.ID != s.ID || got.UserID != s.UserID || !got.ExpiresAt.Equal(exp2) || got.RevokedAt != nil || !got.CreatedAt.Equal(t0) {
				t.Fatalf("rotated session = %+v", got)
			}
			got, err = db.RotateRefreshToken(ctx, "h2", "h3", t0.Add(72*time.Hour), t0.Add(2*time.Hour))
			must(t, err)
			if !got.ExpiresAt.Equal(t0.Add(72 * time.Hour)) {
				t.Fatalf("ExpiresAt = %v", got.ExpiresAt)
			}
		})

		t.Run("reuse revokes the family", func(t *testing.T) {
			newSession(t, "r1")
			_, err := db.RotateRefreshToken(ctx, "r1", "r2", t0.Add(48*time.Hour), t0.Add(time.Minute))
			must(t, err)
			_, err = db.RotateRefreshToken(ctx, "r1", "r-evil", t0.Add(48*time.Hour), t0.Add(2*time.Minute))
			if !errors.Is(err, plop.ErrRefreshTokenReused) {
				t.Fatalf("reuse error = %v, want ErrRefreshTokenReused", err)
			}
			wantCode(t, err, plop.EUnauthenticated)
			// The legitimate successor, still unspent and unexpired, is now dead too.
			_, err = db.RotateRefreshToken(ctx, "r2", "r3", t0.Add(48*time.Hour), t0.Add(3*time.Minute))
			wantCode(t, err, plop.EUnauthenticated)
			// The token minted by the refused reuse does not exist.
			_, err = db.RotateRefreshToken(ctx, "r-evil", "r4", t0.Add(48*time.Hour), t0.Add(3*time.Minute))
			wantCode(t, err, plop.EUnauthenticated)
		})

		t.Run("expired and unknown tokens", func(t *testing.T) {
			s := newSession(t, "e1")
			_, err := db.RotateRefreshToken(ctx, "e1", "e2", t0.Add(48*time.Hour), s.ExpiresAt)
			wantCode(t, err, plop.EUnauthenticated)
			if errors.Is(err, plop.ErrRefreshTokenReused) {
				t.Fatal("expiry reported as reuse")
			}
			_, err = db.RotateRefreshToken(ctx, "nope", "x", t0.Add(48*time.Hour), t0)
			wantCode(t, err, plop.EUnauthenticated)
			// The expired token was not spent: it is still refused the same way, not as reuse.
			_, err = db.RotateRefreshToken(ctx, "e1", "e3", t0.Add(48*time.Hour), s.ExpiresAt.Add(time.Second))
			if errors.Is(err, plop.ErrRefreshTokenReused) || plop.ErrorCode(err) != plop.EUnauthenticated {
				t.Fatalf("second try on expired token = %v", err)
			}
		})

		t.Run("logout", func(t *testing.T) {
			s := newSession(t, "l1")
			_, err := db.RotateRefreshToken(ctx, "l1", "l2", t0.Add(48*time.Hour), t0.Add(time.Minute))
			must(t, err)
			// Revoking through a spent token of the family works too.
			got, err := db.RevokeSession(ctx, "l1", t0.Add(time.Hour))
			must(t, err)
			if got.ID != s.ID || got.RevokedAt == nil || !got.RevokedAt.Equal(t0.Add(time.Hour)) {
				t.Fatalf("revoked session = %+v", got)
			}
			_, err = db.RotateRefreshToken(ctx, "l2", "l3", t0.Add(48*time.Hour), t0.Add(2*time.Hour))
			wantCode(t, err, plop.EUnauthenticated)
			// Revoking again keeps the first revocation time.
			got, err = db.RevokeSession(ctx, "l2", t0.Add(5*time.Hour))
			must(t, err)
			if !got.RevokedAt.Equal(t0.Add(time.Hour)) {
				t.Fatalf("RevokedAt moved to %v", got.RevokedAt)
			}
			_, err = db.RevokeSession(ctx, "unknown", t0)
			wantCode(t, err, plop.EUnauthenticated)
		})
	})
}

func TestCodeStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		c := plop.VerificationCode{Email: "new@example.com", CodeHash: "h1", ExpiresAt: t0.Add(10 * time.Minute), SentAt: t0}
		must(t, db.SaveCode(ctx, c))
		got, err := db.Code(ctx, c.Email)
		must(t, err)
		if got != c {
			t.Fatalf("Code = %+v, want %+v", got, c)
		}
		for want := 1; want <= 3; want++ {
			n, err := db.AddCodeAttempt(ctx, c.Email)
			must(t, err)
			if n != want {
				t.Fatalf("attempts = %d, want %d", n, want)
			}
		}
		// A new code replaces the old one and its attempts.
		c2 := plop.VerificationCode{Email: c.Email, CodeHash: "h2", ExpiresAt: t0.Add(20 * time.Minute), SentAt: t0.Add(time.Minute)}
		must(t, db.SaveCode(ctx, c2))
		got, err = db.Code(ctx, c.Email)
		must(t, err)
		if got != c2 {
			t.Fatalf("replaced Code = %+v, want %+v", got, c2)
		}
		must(t, db.DeleteCode(ctx, c.Email))
		_, err = db.Code(ctx, c.Email)
		wantCode(t, err, plop.ENotFound)
		_, err = db.AddCodeAttempt(ctx, c.Email)
		wantCode(t, err, plop.ENotFound)
		must(t, db.DeleteCode(ctx, c.Email)) // deleting a missing code is fine
	})
}
