package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/plop-chat/plop"
)

// Revocation checks: an access token is only as good as its login. Authenticate asks the
// session store whether a token's session was revoked (logout, or a reused refresh token)
// at most once per session every revocationRecheck, and a node that revokes a session knows
// it at once.
const (
	revocationRecheck = 10 * time.Second
	revocationsMax    = 100_000 // sessions remembered before the memory is cleared
)

// LoginEndedWithin is how long after a login ends on another node its access tokens may
// still be accepted here.
const LoginEndedWithin = revocationRecheck

type revocations struct {
	mu      sync.Mutex
	checked map[string]revocation
	// watchers are told of each login this node learns has ended (OnLoginEnded).
	watchers  map[int]func(sessionID string)
	watcherID int
}

type revocation struct {
	revoked bool
	at      time.Time
}

// sessionRevoked reports whether the session id is revoked, from memory when it was checked
// recently (a revoked session stays revoked).
func (a *App) sessionRevoked(ctx context.Context, id string) (bool, error) {
	return a.sessionRevokedWithin(ctx, id, revocationRecheck)
}

// sessionRevokedWithin is sessionRevoked with an answer from memory at most maxAge old.
func (a *App) sessionRevokedWithin(ctx context.Context, id string, maxAge time.Duration) (bool, error) {
	now := a.now()
	r := &a.revoked
	r.mu.Lock()
	e, ok := r.checked[id]
	r.mu.Unlock()
	if ok && (e.revoked || now.Sub(e.at) < maxAge) {
		return e.revoked, nil
	}
	revoked, err := a.sessions.SessionRevoked(ctx, id)
	if err != nil {
		return false, err
	}
	a.rememberSession(id, revoked, now)
	return revoked, nil
}

func (a *App) rememberSession(id string, revoked bool, now time.Time) {
	r := &a.revoked
	r.mu.Lock()
	if r.checked == nil || len(r.checked) >= revocationsMax {
		r.checked = make(map[string]revocation)
	}
	was := r.checked[id].revoked
	r.checked[id] = revocation{revoked: revoked, at: now}
	var tell []func(string)
	if revoked && !was {
		for _, f := range r.watchers {
			tell = append(tell, f)
		}
	}
	r.mu.Unlock()
	for _, f := range tell {
		f(id)
	}
}

// LoginEnded reports whether the login (session) sessionID has ended: logged out, or revoked
// because its refresh token was reused. It answers from the same memory as Authenticate
// when that was checked less than maxAge ago (at most LoginEndedWithin), so the store is
// asked at most once per login every maxAge.
func (a *App) LoginEnded(ctx context.Context, sessionID string, maxAge time.Duration) (bool, error) {
	return a.sessionRevokedWithin(ctx, sessionID, min(maxAge, revocationRecheck))
}

// OnLoginEnded registers f to be called with the id of each login this node learns has
// ended: at once for a logout or a reused refresh token on this node, and when a check
// finds a login revoked elsewhere. f runs on the caller's goroutine and must not block.
// The returned stop unregisters f.
func (a *App) OnLoginEnded(f func(sessionID string)) (stop func()) {
	r := &a.revoked
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.watchers == nil {
		r.watchers = make(map[int]func(string))
	}
	r.watcherID++
	id := r.watcherID
	r.watchers[id] = f
	return func() {
		r.mu.Lock()
		delete(r.watchers, id)
		r.mu.Unlock()
	}
}

// AuthenticateLogin is Authenticate that also returns when the access token expires.
func (a *App) AuthenticateLogin(ctx context.Context, accessToken string) (Identity, time.Time, error) {
	c, err := a.tokens.Verify(accessToken, a.now())
	if err != nil {
		return Identity{}, time.Time{}, err
	}
	revoked, err := a.sessionRevoked(ctx, c.SessionID)
	if err != nil {
		return Identity{}, time.Time{}, fmt.Errorf("check session: %w", err)
	}
	if revoked {
		return Identity{}, time.Time{}, errLoginEnded
	}
	return Identity{UserID: c.UserID, SessionID: c.SessionID}, c.ExpiresAt, nil
}

var errLoginEnded = plop.Errorf(plop.EUnauthenticated, "this login has ended; log in again")
