package app

import (
	"context"
	"encoding/json"
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

// loginEndedEvent is the broker event that tells every node a login has ended. It has
// neither room nor users, so the real-time hubs deliver it to nobody.
const loginEndedEvent = "login.ended"

// loginEndedBody is the body of a loginEndedEvent.
type loginEndedBody struct {
	Type      string `json:"type"`
	SessionID string `json:"session_id"`
}

// loginEnded records that this node ended the login id (logout, reused refresh token) and
// tells every node, whose watchers then close its connections. The revocation is stored by
// then, so a caller that went away does not stop the news.
func (a *App) loginEnded(ctx context.Context, id string) {
	a.rememberSession(id, true, a.now())
	a.publish(context.WithoutCancel(ctx), plop.Event{Type: loginEndedEvent}, loginEndedBody{Type: loginEndedEvent, SessionID: id})
}

// StartLoginEvents subscribes to the login.ended events of every node until ctx is done, so
// that tokens and connections of a login ended elsewhere are refused and closed here at once.
// It returns once the subscription is in place.
func (a *App) StartLoginEvents(ctx context.Context) error {
	if err := a.broker.Subscribe(ctx, a.deliverLoginEnded); err != nil {
		return fmt.Errorf("login events: subscribe: %w", err)
	}
	return nil
}

// deliverLoginEnded applies a login.ended event published by any node. It never blocks on
// the network.
func (a *App) deliverLoginEnded(e plop.Event) {
	if e.Type != loginEndedEvent {
		return
	}
	var b loginEndedBody
	if err := json.Unmarshal(e.Body, &b); err != nil || b.SessionID == "" {
		a.log.Warn("decode login.ended event", "err", err)
		return
	}
	a.rememberSession(b.SessionID, true, a.now())
}

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
// when that was checked less than maxAge ago, so the store is asked at most once per login
// every maxAge. (Authenticate refreshes the same memory every 10 s for the logins in use.)
func (a *App) LoginEnded(ctx context.Context, sessionID string, maxAge time.Duration) (bool, error) {
	return a.sessionRevokedWithin(ctx, sessionID, maxAge)
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

var errLoginEnded = plop.Errorf(plop.EUnauthenticated, "this login has ended; log in again")
