package realtime

import (
	"context"
	"sync"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
)

// Logins is what the server uses, when its App provides it, to end the connections of a
// login that has ended (logout, or a reused refresh token) rather than only refusing the
// login's new requests. *app.App provides it.
type Logins interface {
	// LoginEnded reports whether the login sessionID has ended; it answers from memory
	// checked less than maxAge ago, else asks the store.
	LoginEnded(ctx context.Context, sessionID string, maxAge time.Duration) (bool, error)
	// OnLoginEnded registers f, called without blocking with each login this node learns
	// has ended; stop unregisters it.
	OnLoginEnded(f func(sessionID string)) (stop func())
}

var _ Logins = (*app.App)(nil)

// loginRecheck is how old the store's answer for a connection's login may be before a pass
// asks again: it bounds how long a connection outlives a login ended on another node whose
// login.ended event this node missed, and keeps idle connections from loading the store.
const loginRecheck = 2 * time.Minute

// maxEndedPending bounds the logins told ended and not yet acted on; past it they are left
// to the next periodic pass, which finds them through LoginEnded.
const maxEndedPending = 4096

// loginWatch ends the connections of ended logins: at once when this node learns of the end
// (OnLoginEnded), and every Options.LoginCheck by asking LoginEnded once per distinct login
// with a connection here, which finds logins ended on other nodes.
type loginWatch struct {
	srv    *Server
	logins Logins // nil: the App cannot tell, nothing is watched

	mu      sync.Mutex
	pending map[string]struct{} // logins told ended since the last pass
	wake    chan struct{}       // one slot: a pass is due for pending
}

func (w *loginWatch) init(s *Server) {
	w.srv = s
	w.logins, _ = s.app.(Logins)
	w.pending = make(map[string]struct{})
	w.wake = make(chan struct{}, 1)
}

// ended is the OnLoginEnded hook: it notes the login and wakes the watcher.
func (w *loginWatch) ended(sessionID string) {
	w.mu.Lock()
	if len(w.pending) < maxEndedPending {
		w.pending[sessionID] = struct{}{}
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run is the watcher's goroutine; it returns when ctx ends.
func (w *loginWatch) run(ctx context.Context) {
	if w.logins == nil {
		return
	}
	stop := w.logins.OnLoginEnded(w.ended)
	defer stop()
	t := time.NewTicker(w.srv.opt.LoginCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
			w.pass(ctx, false)
		case <-t.C:
			w.pass(ctx, true)
		}
	}
}

// pass closes the open connections whose login has ended. It acts on the logins told
// ended, and when full also asks LoginEnded for the login of every other connection (the
// App answers from memory).
func (w *loginWatch) pass(ctx context.Context, full bool) {
	w.mu.Lock()
	pending := w.pending
	if len(pending) > 0 {
		w.pending = make(map[string]struct{})
	}
	w.mu.Unlock()
	if len(pending) == 0 && !full {
		return
	}
	// Every node hears of an ended login at once (the login.ended event, through
	// OnLoginEnded); asking the store is the safety net for an event lost in a broker outage,
	// so the App answers from memory unless its answer is older than loginRecheck. Nothing
	// is allocated per connection: an idle node's memory stays put.
	maxAge := max(loginRecheck, w.srv.opt.LoginCheck)
	w.srv.conns.each(func(ss *session) {
		if ss.state.Load() != stateOpen || ss.login == "" {
			return
		}
		_, over := pending[ss.login]
		if !over && full {
			ended, err := w.logins.LoginEnded(ctx, ss.login, maxAge)
			if err != nil && ctx.Err() == nil {
				w.srv.log.Warn("check login", "login", ss.login, "err", err)
			}
			over = err == nil && ended
		}
		if over && ss.state.CompareAndSwap(stateOpen, stateClosing) {
			ss.failFromOutside(plop.EUnauthenticated, "this login has ended; log in again")
		}
	})
}
