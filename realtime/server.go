package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/stomp"
)

// App is what the real-time layer needs from the services.
type App interface {
	// Authenticate checks an access token. Returns unauthenticated.
	Authenticate(ctx context.Context, accessToken string) (app.Identity, error)
	// AuthorizeRoom returns nil when me may read the room. Returns not_found.
	AuthorizeRoom(ctx context.Context, me, roomID string) error
	// SendMessage stores a message (idempotent on client_msg_id) and publishes it.
	SendMessage(ctx context.Context, me, roomID string, in app.MessageInput) (plop.Message, bool, error)
	// MarkRead moves me's read pointer in the room.
	MarkRead(ctx context.Context, me, roomID string, seq int64) error
	// Typing relays a typing indicator to the room, except to connection connID.
	Typing(ctx context.Context, me, connID, roomID string, typing bool) error
	// Connected and Disconnected keep the presence of me up to date.
	Connected(ctx context.Context, me, connID string) error
	Disconnected(ctx context.Context, me, connID string) error
}

var _ App = (*app.App)(nil)

// Options tune a Server; zero fields take the defaults listed.
type Options struct {
	// Logger receives connection errors and the details of internal errors.
	// Default slog.Default().
	Logger *slog.Logger
	// MaxFrameSize bounds one STOMP frame, headers and body. Default 64 KiB.
	MaxFrameSize int
	// OutboundQueue is the number of frames queued for one connection before it counts as a
	// slow consumer and is disconnected. Default 1024.
	OutboundQueue int
	// OutboundBytes bounds the bytes of those queued frames in the same way. Default 1 MiB.
	OutboundBytes int
	// HeartBeat is the interval the server offers both ways in CONNECTED; the larger of it
	// and the client's wish wins. Negative disables heart-beats. Default 10s.
	HeartBeat time.Duration
	// PresenceGrace is how long after a connection closes it still counts for presence, so
	// that a quick reconnect does not flap. Default 5s.
	PresenceGrace time.Duration
	// AllowedOrigins lists the browser origins allowed to open a WebSocket ("*" allows any).
	// Empty allows any. Requests without an Origin header (native apps) and from the
	// server's own origin (same host) are always allowed.
	AllowedOrigins []string
	// Registry, when set, receives the connection and frame metrics.
	Registry *prometheus.Registry
	// WriteTimeout bounds one write to a connection; a peer that does not take the bytes
	// by then is disconnected. Default 10s.
	WriteTimeout time.Duration
	// ConnectTimeout is how long a new connection may take to send its CONNECT frame.
	// Default 10s.
	ConnectTimeout time.Duration
	// MaxSubscriptions bounds the subscriptions of one connection. Default 1024.
	MaxSubscriptions int
	// HubQueue is the number of events each hub worker holds before it drops new ones
	// (clients fill gaps from history). Default 8192.
	HubQueue int
	// LoginCheck is how often the server looks for connections whose login has ended
	// (logout or a reused refresh token) and closes them. A login ended on any node closes
	// them at once (the App tells of it, from its own node or a login.ended event); the
	// periodic look asks the store once per login every two minutes, for an event lost in a
	// broker outage. Used only when the App implements Logins. Default 30s.
	LoginCheck time.Duration
	// SocketWriteBuffer, when positive, sets the kernel send buffer (SO_SNDBUF) of each
	// connection, which bounds the kernel memory a slow reader can pin. Default: the
	// system's.
	SocketWriteBuffer int
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxFrameSize <= 0 {
		o.MaxFrameSize = stomp.DefaultMaxFrameSize
	}
	if o.OutboundQueue <= 0 {
		o.OutboundQueue = 1024
	}
	if o.OutboundBytes <= 0 {
		o.OutboundBytes = 1 << 20
	}
	if o.HeartBeat == 0 {
		o.HeartBeat = 10 * time.Second
	}
	if o.PresenceGrace <= 0 {
		o.PresenceGrace = 5 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.MaxSubscriptions <= 0 {
		o.MaxSubscriptions = 1024
	}
	if o.LoginCheck <= 0 {
		o.LoginCheck = 30 * time.Second
	}
	if o.HubQueue <= 0 {
		o.HubQueue = 8192
	}
	return o
}

// Server is the /ws endpoint: it upgrades requests to WebSocket, speaks STOMP on them, and
// runs the hub that delivers broker events to the local subscribers.
type Server struct {
	app    App
	broker plop.Broker
	opt    Options
	log    *slog.Logger
	met    *metrics

	nodeID  string        // random, so connection ids are unique across nodes
	connSeq atomic.Uint64 // numbers connections
	msgSeq  atomic.Uint64 // numbers MESSAGE frames (their message-id)

	upgraders upgraders
	hub       hub
	conns     connRegistry
	presence  presenceGrace
	logins    loginWatch

	// ctx is the context of the services called on behalf of connections; it ends once Close
	// has drained the sessions.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	started  atomic.Bool
	closed   atomic.Bool
	stopRun  context.CancelFunc // stops the hub workers, the sweeper, the login watcher and the broker subscription
	sessions sync.WaitGroup     // read loops and writers
	workers  sync.WaitGroup     // hub workers, the sweeper and the login watcher
}

// New returns a Server over the services a and the broker b. Call Start before serving.
func New(a App, b plop.Broker, o Options) (*Server, error) {
	if a == nil || b == nil {
		return nil, errors.New("realtime: New needs an App and a Broker")
	}
	if o.MaxFrameSize < 0 || o.OutboundQueue < 0 || o.OutboundBytes < 0 || o.MaxSubscriptions < 0 {
		return nil, errors.New("realtime: negative limit in Options")
	}
	o = o.withDefaults()
	var id [4]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("realtime: node id: %w", err)
	}
	met, err := newMetrics(o.Registry)
	if err != nil {
		return nil, err
	}
	s := &Server{app: a, broker: b, opt: o, log: o.Logger, met: met, nodeID: hex.EncodeToString(id[:])}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.upgraders = newUpgraders(s, o)
	s.hub.init(s)
	s.conns.init()
	s.presence.init(s)
	s.logins.init(s)
	return s, nil
}

// Start subscribes the hub to the broker and starts the hub workers, the heart-beat
// sweeper and the login watcher. They run until ctx is done or Close is called.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return errors.New("realtime: Start after Close")
	}
	if s.started.Load() {
		return errors.New("realtime: started twice")
	}
	run, stop := context.WithCancel(ctx)
	s.hub.start(run, &s.workers)
	if err := s.broker.Subscribe(run, s.hub.deliver); err != nil {
		stop()
		s.workers.Wait()
		return fmt.Errorf("realtime: subscribe to the broker: %w", err)
	}
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		s.sweep(run)
	}()
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		s.logins.run(run)
	}()
	s.stopRun = stop
	s.started.Store(true)
	return nil
}

// ServeHTTP upgrades the request to a WebSocket connection speaking STOMP.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.serveHTTP(w, r)
}

// Close ends every session with a WebSocket close 1001 (going away), waits for their
// goroutines, stops the hub and runs the presence updates still pending at once (without
// waiting out their grace). When ctx ends first the remaining connections are cut and its
// error is returned.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed.Swap(true) {
		s.mu.Unlock()
		return nil
	}
	stop := s.stopRun
	s.mu.Unlock()

	s.conns.each(func(ss *session) { ss.closeWith(closeGoingAway, "server shutting down") })
	err := waitCtx(ctx, &s.sessions)
	if err != nil {
		// Out of time: cancel the calls in flight and cut the connections.
		s.cancel()
		s.conns.each(func(ss *session) { ss.abort() })
		s.sessions.Wait()
	}
	if stop != nil {
		stop()
	}
	s.workers.Wait()
	s.presence.flush(ctx)
	s.cancel()
	return err
}

// track counts the goroutine of a new session, before the session is visible to Close,
// unless Close has begun. Close sets closed under the same lock, so no session is counted
// once Close waits with the count at zero.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return false
	}
	s.sessions.Add(1)
	return true
}

// waitCtx waits for wg, or for ctx to end.
func waitCtx(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("realtime: close: %w", ctx.Err())
	}
}
