package realtime

import (
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lxzan/gws"

	"github.com/plop-chat/plop/stomp"
)

// Session states.
const (
	stateAwaitConnect uint32 = iota // upgraded; only CONNECT or STOMP is accepted
	stateOpen                       // CONNECTED sent
	stateClosing                    // ERROR, DISCONNECT or close queued: input is ignored
)

// session is one WebSocket connection speaking STOMP.
//
// Its read side (decoder, frame handling, calls to the services) runs on the connection's
// gws read goroutine only; its write side is the outbound queue of outbound.go, filled by
// any goroutine and drained by a writer goroutine that runs only while there is something
// to write. An idle session therefore has one goroutine, parked in a read.
type session struct {
	srv   *Server
	id    string // connection id: the STOMP session header and presence key
	shard uint32 // its shard of the connection registry
	ws    *gws.Conn
	gc    *gwsConn // ws's view of nc: agrees with gws on who sends the close
	nc    net.Conn

	// Read side, owned by the read goroutine.
	dec     *stomp.Decoder
	user    string
	version string
	online  bool // Connected was called; Disconnected is due when the session ends
	// login is the login (session id) of the access token, "" when the App does not say.
	// It is set before state becomes stateOpen and read by the login watcher after.
	login string

	state     atomic.Uint32
	lastRead  atomic.Int64 // unix nanoseconds of the last byte received
	lastWrite atomic.Int64 // unix nanoseconds of the last write
	born      int64        // unix nanoseconds of the upgrade
	// Heart-beat intervals, set before state becomes stateOpen: how often to send, and how
	// much silence ends the connection (0: never).
	sendEvery, readLimit time.Duration

	// mu guards subs, a few subscriptions as a rule (at most Options.MaxSubscriptions),
	// searched by id: a slice costs far less than a map for so few. See the lock order in
	// doc.go.
	mu   sync.Mutex
	subs []*subscription

	// outMu guards the outbound queue.
	outMu     sync.Mutex
	out       []outItem
	spare     []outItem
	outBytes  int
	writing   bool // a writer goroutine is running
	outClosed bool // nothing more is queued: a close is queued or the connection is gone
	slow      bool // counted as a slow consumer, or closed for good: not to be counted again
}

func newSession(s *Server) *session {
	n := s.connSeq.Add(1)
	return &session{
		srv:   s,
		id:    s.nodeID + "-" + strconv.FormatUint(n, 36),
		shard: uint32(n % numShards),
	}
}

// attach binds the upgraded connection, the raw one the session writes to, and the one gws
// writes to; the session is not shared yet.
func (ss *session) attach(ws *gws.Conn, nc net.Conn, gc *gwsConn) {
	ss.ws, ss.nc, ss.gc = ws, nc, gc
	now := time.Now().UnixNano()
	ss.born = now
	ss.lastRead.Store(now)
	ss.lastWrite.Store(now)
}

// decoder returns the session's decoder, making one when the session has none: a decoder
// is dropped whenever it holds no partial frame, so that an idle session keeps no buffers.
func (ss *session) decoder() *stomp.Decoder {
	if ss.dec == nil {
		ss.dec = stomp.NewDecoder(stomp.Limits{MaxFrameSize: ss.srv.opt.MaxFrameSize})
		if ss.version != "" {
			ss.dec.SetVersion(ss.version)
		}
	}
	return ss.dec
}

// The session is also the gws SessionStorage of its connection, so that the event handlers
// find it without a map; gws itself stores nothing there.

func (ss *session) Len() int                           { return 0 }
func (ss *session) Load(string) (any, bool)            { return nil, false }
func (ss *session) Delete(string)                      {}
func (ss *session) Store(string, any)                  {}
func (ss *session) Range(func(key string, v any) bool) {}

func sessionOf(ws *gws.Conn) *session { return ws.Session().(*session) }

// OnOpen is called by gws on the read goroutine before the first read.
func (s *Server) OnOpen(ws *gws.Conn) { s.met.connections.Inc() }

// OnClose is called by gws on the read goroutine once the connection is closed; it is the
// one place where a session is torn down.
func (s *Server) OnClose(ws *gws.Conn, err error) {
	ss := sessionOf(ws)
	s.met.connections.Dec()
	ss.teardown()
	s.log.Debug("websocket closed", "conn", ss.id, "user", ss.user, "err", err)
}

// OnPing answers a WebSocket ping through the outbound queue, in order with the frames.
func (s *Server) OnPing(ws *gws.Conn, payload []byte) {
	ss := sessionOf(ws)
	ss.touch()
	ss.enqueueControl(outItem{kind: itemPong, frame: append([]byte(nil), payload...)})
}

// OnPong counts as traffic.
func (s *Server) OnPong(ws *gws.Conn, payload []byte) { sessionOf(ws).touch() }

// OnMessage feeds a WebSocket message, text or binary, to the STOMP decoder and handles the
// frames it completes.
//
// The frames are handled on a goroutine of their own while the read goroutine waits for it:
// the services they call (token checks, SQLite) grow a goroutine's stack to tens of KiB, and
// a stack only shrinks by half per garbage collection, so an idle connection whose read
// goroutine had served them would keep that stack long after. The helper's stack is freed
// when it ends, and the read goroutine, which only parses, stays at its starting size. A
// message with no complete frame in it (a heart-beat, part of a frame) stays on the read
// goroutine.
func (s *Server) OnMessage(ws *gws.Conn, msg *gws.Message) {
	ss := sessionOf(ws)
	ss.touch()
	if ss.state.Load() == stateClosing {
		msg.Close()
		return
	}
	defer ss.recoverFrame()
	// A failed Write is reported by Next after the frames that came before the bad bytes.
	dec := ss.decoder()
	_ = dec.Write(msg.Bytes())
	msg.Close()
	f, err := dec.Next()
	if f == nil && err == nil {
		ss.dropIdleDecoder()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer ss.recoverFrame()
		ss.handleFrames(f, err)
	}()
	<-done
}

// handleFrames handles f (or the decoding error err) and the frames after it in the decoder.
// It runs while the read goroutine waits for it, so it owns the read side.
func (ss *session) handleFrames(f *stomp.Frame, err error) {
	for {
		if err != nil {
			ss.protocolError(err)
			return
		}
		if f == nil {
			break
		}
		ss.srv.met.framesIn.Inc()
		ss.handle(f)
		if ss.state.Load() == stateClosing {
			return
		}
		f, err = ss.dec.Next()
	}
	ss.dropIdleDecoder()
}

// dropIdleDecoder drops the decoder when it holds no partial frame.
func (ss *session) dropIdleDecoder() {
	if ss.dec != nil && ss.dec.Buffered() == 0 {
		ss.dec = nil
	}
}

// recoverFrame turns a panic while serving a frame into the end of the connection.
func (ss *session) recoverFrame() {
	if r := recover(); r != nil {
		ss.srv.log.Error("panic serving a STOMP frame", "conn", ss.id, "user", ss.user, "panic", r, "stack", string(debug.Stack()))
		ss.state.Store(stateClosing)
		ss.abort()
	}
}

func (ss *session) touch() { ss.lastRead.Store(time.Now().UnixNano()) }

// teardown releases everything the session holds: queued frames, subscriptions, its place
// in the registry, and (after the grace) its presence.
func (ss *session) teardown() {
	ss.state.Store(stateClosing)
	ss.outMu.Lock()
	ss.outClosed = true
	clear(ss.out)
	ss.out, ss.spare, ss.outBytes = nil, nil, 0
	ss.outMu.Unlock()
	_ = ss.nc.Close()

	ss.mu.Lock()
	subs := ss.subs
	ss.subs = nil
	ss.mu.Unlock()
	for _, sub := range subs {
		ss.srv.hub.unsubscribe(sub)
	}
	ss.srv.conns.remove(ss)
	ss.dec = nil
	if ss.online {
		ss.srv.presence.disconnected(ss.user, ss.id)
	}
}

// abort cuts the connection without a goodbye; the read goroutine then tears it down.
func (ss *session) abort() { _ = ss.nc.Close() }

// connRegistry holds every live session, sharded, for the sweeper and for Close.
type connRegistry struct {
	shards [numShards]connShard
}

type connShard struct {
	mu sync.Mutex
	m  map[*session]struct{}
}

func (r *connRegistry) init() {
	for i := range r.shards {
		r.shards[i].m = make(map[*session]struct{})
	}
}

// add registers ss; it fails once Close has begun.
func (r *connRegistry) add(ss *session) bool {
	sh := &r.shards[ss.shard]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if ss.srv.closed.Load() {
		return false
	}
	sh.m[ss] = struct{}{}
	return true
}

func (r *connRegistry) remove(ss *session) {
	sh := &r.shards[ss.shard]
	sh.mu.Lock()
	delete(sh.m, ss)
	sh.mu.Unlock()
}

// each calls f for every session, one shard at a time, outside the shard's lock.
func (r *connRegistry) each(f func(*session)) {
	var batch []*session
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for ss := range sh.m {
			batch = append(batch, ss)
		}
		sh.mu.Unlock()
		for _, ss := range batch {
			f(ss)
		}
		clear(batch)
		batch = batch[:0]
	}
}
