package plop

import (
	"context"
	"time"
)

// Session is one login: the family of refresh tokens that descend from one sign-in. Spending
// a refresh token mints its successor; presenting a spent one revokes the whole family.
type Session struct {
	ID        string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time // the current refresh token's expiry
	RevokedAt *time.Time
}

// SessionStore keeps refresh tokens, as SHA-256 hashes only.
type SessionStore interface {
	// CreateSession stores s with its first refresh token hash.
	CreateSession(ctx context.Context, s Session, tokenHash string) error
	// RotateRefreshToken spends the token with oldHash and stores newHash as its successor,
	// valid until expires, in one transaction; it returns the session.
	// Returns unauthenticated when the token is unknown, expired or its session revoked. When
	// the token was already spent it revokes the session and returns ErrRefreshTokenReused
	// (an unauthenticated error) with the session's ID and UserID.
	RotateRefreshToken(ctx context.Context, oldHash, newHash string, expires, now time.Time) (Session, error)
	// RevokeSession revokes the session that the token with tokenHash belongs to (spent or
	// not). Returns unauthenticated when the token is unknown.
	RevokeSession(ctx context.Context, tokenHash string, now time.Time) (Session, error)
	// SessionRevoked reports whether the session with id was revoked. A session the store
	// does not know (never stored, or expired and forgotten) is not reported as revoked:
	// only a key holder can mint a token for one, and access tokens expire on their own.
	SessionRevoked(ctx context.Context, id string) (bool, error)
}

// ErrRefreshTokenReused is returned by SessionStore.RotateRefreshToken for a spent token.
var ErrRefreshTokenReused = &Error{Code: EUnauthenticated, Message: "refresh token was already used; the session is revoked"}

// VerificationCode is a pending e-mail verification: the code is kept as a hash only.
type VerificationCode struct {
	Email     string
	CodeHash  string
	ExpiresAt time.Time
	Attempts  int
	SentAt    time.Time
}

// CodeStore keeps e-mail verification codes, one per address.
type CodeStore interface {
	// SaveCode stores c, replacing any earlier code for the same e-mail.
	SaveCode(ctx context.Context, c VerificationCode) error
	// Code returns the code for email. Returns not_found.
	Code(ctx context.Context, email string) (VerificationCode, error)
	// AddCodeAttempt counts one wrong try and returns the attempts so far. Returns not_found.
	AddCodeAttempt(ctx context.Context, email string) (int, error)
	// DeleteCode removes the code; removing a missing code is not an error.
	DeleteCode(ctx context.Context, email string) error
}

// Limiter answers whether one more event under key fits in the rate `limit per window`.
// The in-process implementation serves one node; the Redis one counts across nodes.
type Limiter interface {
	// Allow counts one event for key and reports whether it is allowed; when it is not,
	// retryAfter says when the next one will be.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error)
}
