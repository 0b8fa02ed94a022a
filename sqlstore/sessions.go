package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/plop-chat/plop"
)

var _ plop.SessionStore = (*DB)(nil)

// errRefreshInvalid is the one answer for unknown, expired and revoked tokens: a client must
// not learn which.
func errRefreshInvalid() error {
	return plop.Errorf(plop.EUnauthenticated, "refresh token is invalid or expired")
}

// CreateSession stores s with its first refresh token hash, valid until s.ExpiresAt.
func (db *DB) CreateSession(ctx context.Context, s plop.Session, tokenHash string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?)`,
			s.ID, s.UserID, ms(s.CreatedAt), ms(s.ExpiresAt), msPtr(s.RevokedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, session_id, expires_at) VALUES (?, ?, ?)`,
			tokenHash, s.ID, ms(s.ExpiresAt))
		return err
	})
	if db.d.isUnique(err) {
		return plop.Errorf(plop.EConflict, "session already exists")
	}
	return db.fail("create session", err)
}

// tokenSession loads the token with hash and its session inside tx.
func tokenSession(ctx context.Context, tx *sql.Tx, hash string) (s plop.Session, tokenExpires int64, spent bool, err error) {
	var created, expires int64
	var revoked, spentAt sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.created_at, s.expires_at, s.revoked_at, t.expires_at, t.spent_at
		FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?`, hash).
		Scan(&s.ID, &s.UserID, &created, &expires, &revoked, &tokenExpires, &spentAt)
	if errors.Is(err, sql.ErrNoRows) {
		return s, 0, false, errRefreshInvalid()
	}
	if err != nil {
		return s, 0, false, err
	}
	s.CreatedAt, s.ExpiresAt, s.RevokedAt = fromMS(created), fromMS(expires), timePtr(revoked)
	return s, tokenExpires, spentAt.Valid, nil
}

// RotateRefreshToken spends the token with oldHash and stores newHash as its successor,
// valid until expires, in one transaction, and returns the session. Unknown, expired or
// revoked tokens are unauthenticated; a spent token revokes its session and returns
// plop.ErrRefreshTokenReused.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash, newHash string, expires, now time.Time) (plop.Session, error) {
	var s plop.Session
	var reused bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		reused = false
		var tokenExpires int64
		var spent bool
		var err error
		s, tokenExpires, spent, err = tokenSession(ctx, tx, oldHash)
		if err != nil {
			return err
		}
		if spent {
			reused = true
			if s.RevokedAt == nil {
				t := plop.UTC(now)
				s.RevokedAt = &t
				_, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ms(now), s.ID)
				return err
			}
			return nil
		}
		if s.RevokedAt != nil || tokenExpires <= ms(now) {
			return errRefreshInvalid()
		}
		res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET spent_at = ? WHERE hash = ? AND spent_at IS NULL`, ms(now), oldHash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 { // spent by a concurrent rotation (server databases)
			reused = true
			t := plop.UTC(now)
			s.RevokedAt = &t
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ms(now), s.ID)
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, session_id, expires_at) VALUES (?, ?, ?)`,
			newHash, s.ID, ms(expires)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET expires_at = ? WHERE id = ?`, ms(expires), s.ID); err != nil {
			return err
		}
		s.ExpiresAt = plop.UTC(expires)
		return nil
	})
	if err != nil {
		return plop.Session{}, db.fail("rotate refresh token", err)
	}
	if reused {
		db.logger.Warn("refresh token reused; session revoked", "session", s.ID, "user", s.UserID)
		return plop.Session{ID: s.ID, UserID: s.UserID}, plop.ErrRefreshTokenReused
	}
	return s, nil
}

// RevokeSession revokes the session that the token with tokenHash belongs to, spent or not,
// and returns it. Returns unauthenticated when the token is unknown.
func (db *DB) RevokeSession(ctx context.Context, tokenHash string, now time.Time) (plop.Session, error) {
	var s plop.Session
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		s, _, _, err = tokenSession(ctx, tx, tokenHash)
		if err != nil {
			return err
		}
		if s.RevokedAt != nil {
			return nil
		}
		t := plop.UTC(now)
		s.RevokedAt = &t
		_, err = tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ms(now), s.ID)
		return err
	})
	if err != nil {
		return plop.Session{}, db.fail("revoke session", err)
	}
	return s, nil
}

// SessionRevoked reports whether the session was revoked; an unknown session was not.
func (db *DB) SessionRevoked(ctx context.Context, id string) (bool, error) {
	var revoked sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT revoked_at FROM sessions WHERE id = ?`, id).Scan(&revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, db.fail("load session", err)
	}
	return revoked.Valid, nil
}
