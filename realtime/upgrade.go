package realtime

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lxzan/gws"
)

// subprotocols are the STOMP WebSocket subprotocols, best first.
var subprotocols = []string{"v12.stomp", "v11.stomp", "v10.stomp"}

// readBufferSize is the buffered reader a connection keeps for its whole life when it is not
// read through a lazyReader. It only needs to hold WebSocket frame headers and small frames;
// larger payloads are read straight into their message buffer, so a small one keeps idle
// connections cheap.
const readBufferSize = 512

// minReadBufferSize is the smallest bufio.Reader there is: gws's reader over a lazyReader,
// which does the buffering itself.
const minReadBufferSize = 16

// upgraders holds two gws upgraders: one that negotiates a STOMP subprotocol, for clients
// that offer one, and one that names none, for clients that offer none (gws refuses a
// client that offers none when subprotocols are configured).
type upgraders struct {
	stomp, plain *gws.Upgrader
}

func newUpgraders(s *Server, o Options) upgraders {
	opt := func(protocols []string) *gws.ServerOption {
		return &gws.ServerOption{
			// A WebSocket message may carry several STOMP frames; let messages somewhat larger
			// than one frame through so that an oversized frame gets a STOMP ERROR from the
			// decoder rather than a bare close from the WebSocket layer.
			ReadMaxPayloadSize: 4 * o.MaxFrameSize,
			ReadBufferSize:     readBufferSize,
			HandshakeTimeout:   o.WriteTimeout,
			SubProtocols:       protocols,
			NewSession:         func() gws.SessionStorage { return newSession(s) },
			Logger:             gwsLogger{s.log},
		}
	}
	return upgraders{
		stomp: gws.NewUpgrader(s, opt(subprotocols)),
		plain: gws.NewUpgrader(s, opt(nil)),
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r.Header.Get("Origin"), r.Host) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if s.closed.Load() || !s.started.Load() {
		http.Error(w, "real-time service not running", http.StatusServiceUnavailable)
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "this endpoint speaks STOMP over WebSocket", http.StatusUpgradeRequired)
		return
	}
	up := s.upgraders.plain
	if offersSTOMP(r.Header.Get("Sec-WebSocket-Protocol")) {
		up = s.upgraders.stomp
	}
	// Hijacking through a ResponseController works through middleware that wraps the
	// ResponseWriter and exposes Unwrap.
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.log.Error("websocket: hijack", "err", err)
		http.Error(w, "cannot upgrade this connection", http.StatusInternalServerError)
		return
	}
	// The server's 4 KiB reader would be kept for the connection's life: take a small one,
	// fed first with whatever the client sent ahead of the handshake's answer. Over a TCP
	// connection it reads through a lazyReader, which holds a buffer only while there are
	// bytes to take in, so that an idle connection keeps only gws's 16-byte one.
	var ahead []byte
	if n := brw.Reader.Buffered(); n > 0 {
		peek, _ := brw.Reader.Peek(n)
		ahead = bytes.Clone(peek)
	}
	var br *bufio.Reader
	lr := newLazyReader(nc, ahead)
	if lr != nil {
		br = bufio.NewReaderSize(lr, minReadBufferSize)
	} else {
		var src io.Reader = nc
		if len(ahead) > 0 {
			src = io.MultiReader(bytes.NewReader(ahead), nc)
		}
		br = bufio.NewReaderSize(src, readBufferSize)
	}
	gc := &gwsConn{Conn: nc}
	ws, err := up.UpgradeFromConn(gc, br, r)
	if err != nil {
		s.log.Debug("websocket: upgrade", "err", err, "remote", r.RemoteAddr)
		return
	}
	gc.markUpgraded()
	if s.opt.SocketWriteBuffer > 0 {
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.SetWriteBuffer(s.opt.SocketWriteBuffer)
		}
	}
	ss := ws.Session().(*session)
	ss.attach(ws, nc, gc)
	if !s.track() {
		_ = nc.Close()
		return
	}
	if !s.conns.add(ss) {
		// Close began meanwhile.
		_ = nc.Close()
		s.sessions.Done()
		return
	}
	go func() {
		defer s.sessions.Done()
		ws.ReadLoop()
	}()
}

// offersSTOMP reports whether a Sec-WebSocket-Protocol value names one of ours (compared
// as gws compares them: exactly).
func offersSTOMP(value string) bool {
	for p := range strings.SplitSeq(value, ",") {
		if slices.Contains(subprotocols, strings.TrimSpace(p)) {
			return true
		}
	}
	return false
}

// originAllowed applies AllowedOrigins. No Origin (a native app) and the server's own origin
// (the embedded web client) are always allowed.
func (s *Server) originAllowed(origin, host string) bool {
	if origin == "" || len(s.opt.AllowedOrigins) == 0 {
		return true
	}
	if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, host) {
		return true
	}
	for _, o := range s.opt.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// gwsLogger sends the few messages gws logs to slog.
type gwsLogger struct{ l *slog.Logger }

func (g gwsLogger) Error(v ...any) {
	if len(v) > 0 {
		if s, ok := v[0].(string); ok {
			g.l.Error("websocket: " + s)
			return
		}
	}
	g.l.Error("websocket: error", "detail", v)
}

// deadline returns the time d from now.
func deadline(d time.Duration) time.Time { return time.Now().Add(d) }
