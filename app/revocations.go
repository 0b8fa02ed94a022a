package app

import (
	"context"
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

type revocations struct {
	mu      sync.Mutex
	checked map[string]revocation
}

type revocation struct {
	revoked bool
	at      time.Time
}

// sessionRevoked reports whether the session id is revoked, from memory when it was checked
// recently (a revoked session stays revoked).
func (a *App) sessionRevoked(ctx context.Context, id string) (bool, error) {
	now := a.now()
	r := &a.revoked
	r.mu.Lock()
	e, ok := r.checked[id]
	r.mu.Unlock()
	if ok && (e.revoked || now.Sub(e.at) < revocationRecheck) {
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
	defer r.mu.Unlock()
	if r.checked == nil || len(r.checked) >= revocationsMax {
		r.checked = make(map[string]revocation)
	}
	r.checked[id] = revocation{revoked: revoked, at: now}
}

var errLoginEnded = plop.Errorf(plop.EUnauthenticated, "this login has ended; log in again")
