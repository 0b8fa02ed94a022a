package realtime

import (
	"context"
	"sync"
	"time"
)

// presenceGrace delays App.Disconnected by Options.PresenceGrace after a connection ends.
// A user who reconnects within the grace has called Connected on the new connection before
// the old one's Disconnected runs, so the presence store never counts them offline and
// their friends see no flap.
//
// A timer per closed connection lives only for the grace; live connections have none.
type presenceGrace struct {
	srv     *Server
	mu      sync.Mutex
	pending map[string]*pendingDisconnect // by connection id
	wg      sync.WaitGroup                // one per pending disconnect
}

type pendingDisconnect struct {
	user, conn string
	timer      *time.Timer
}

func (p *presenceGrace) init(s *Server) {
	p.srv = s
	p.pending = make(map[string]*pendingDisconnect)
}

// disconnected schedules App.Disconnected for conn of user.
func (p *presenceGrace) disconnected(user, conn string) {
	pd := &pendingDisconnect{user: user, conn: conn}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending[conn] = pd
	p.wg.Add(1)
	pd.timer = time.AfterFunc(p.srv.opt.PresenceGrace, func() { p.fire(pd) })
}

func (p *presenceGrace) fire(pd *pendingDisconnect) {
	defer p.wg.Done()
	p.mu.Lock()
	if p.pending[pd.conn] != pd {
		p.mu.Unlock()
		return
	}
	delete(p.pending, pd.conn)
	p.mu.Unlock()
	p.run(pd)
}

func (p *presenceGrace) run(pd *pendingDisconnect) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(p.srv.ctx), 10*time.Second)
	defer cancel()
	if err := p.srv.app.Disconnected(ctx, pd.user, pd.conn); err != nil {
		p.srv.log.Warn("record disconnection for presence", "conn", pd.conn, "user", pd.user, "err", err)
	}
}

// flush runs the pending disconnections at once, when the server shuts down: the node is
// going away, so waiting out the grace would only delay the shutdown. A user who reconnects
// to another node is online again through that connection.
func (p *presenceGrace) flush(ctx context.Context) {
	p.mu.Lock()
	var now []*pendingDisconnect
	for conn, pd := range p.pending {
		if pd.timer.Stop() {
			delete(p.pending, conn)
			now = append(now, pd)
		}
	}
	p.mu.Unlock()
	for _, pd := range now {
		if ctx.Err() == nil {
			p.run(pd)
		}
		p.wg.Done()
	}
	p.wg.Wait() // timers that had fired already
}
