package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/lxzan/gws"

	"github.com/plop-chat/plop/stomp"
)

// stompSession is a lean STOMP-over-WebSocket client for the connect and fanout scenarios:
// one read goroutine, no channels, MESSAGE frames handed to a callback on that goroutine,
// receipts settled by callbacks. It speaks to Plop (a bearer token in CONNECT) and to any
// other broker (login and passcode), so that both are measured with the same client. The
// public client package is richer and heavier; chat uses that one.
type stompSession struct {
	ws        *gws.Conn
	dec       *stomp.Decoder // read goroutine only
	version   string
	onMessage func(*stomp.Frame)

	connected chan struct{}
	done      chan struct{}

	mu       sync.Mutex
	nextID   uint64
	receipts map[string]func(error)
	err      error
}

// stompDial says how to open a stompSession.
type stompDial struct {
	wsURL     string
	token     string // Plop: sent as Authorization: Bearer
	login     string // other brokers
	passcode  string
	vhost     string        // the CONNECT host header; default the URL's host name
	heartBeat time.Duration // offered both ways; 0 for none
	onMessage func(*stomp.Frame)
	// readBuffer is the size of the socket's read buffer: small keeps idle sessions light
	// (connect), large reads several queued frames per system call (fanout). Default 1 KiB.
	readBuffer int
}

// errSessionClosed is the error of calls on a session that has ended.
var errSessionClosed = errors.New("stomp session closed")

func dialStomp(ctx context.Context, d stompDial) (*stompSession, error) {
	u, err := url.Parse(d.wsURL)
	if err != nil {
		return nil, err
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[string]string{"ws": "80", "wss": "443"}[u.Scheme])
	}
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	s := &stompSession{
		dec:       stomp.NewDecoder(stomp.Limits{MaxFrameSize: 1 << 20}),
		onMessage: d.onMessage,
		connected: make(chan struct{}),
		done:      make(chan struct{}),
		receipts:  make(map[string]func(error)),
	}
	hdr := http.Header{}
	hdr.Set("Sec-WebSocket-Protocol", "v12.stomp, v11.stomp, v10.stomp")
	ws, _, err := gws.NewClientFromConn(sessionEvents{s}, &gws.ClientOption{
		Addr:             d.wsURL,
		RequestHeader:    hdr,
		HandshakeTimeout: 30 * time.Second,
		ReadBufferSize:   cmp.Or(d.readBuffer, 1024),
		NewSession:       func() gws.SessionStorage { return noStorage{} },
	}, nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("websocket handshake: %w", errors.Join(err, ctx.Err()))
	}
	s.ws = ws
	go ws.ReadLoop()

	vhost := d.vhost
	if vhost == "" {
		vhost = u.Hostname()
	}
	hb := stomp.FormatHeartBeat(d.heartBeat, d.heartBeat)
	f := &stomp.Frame{Command: stomp.CmdConnect, Headers: []stomp.Header{
		{Key: stomp.HdrAcceptVersion, Value: "1.2,1.1"},
		{Key: stomp.HdrHost, Value: vhost},
		{Key: stomp.HdrHeartBeat, Value: hb},
	}}
	if d.token != "" {
		f.Headers = append(f.Headers, stomp.Header{Key: stomp.HdrAuthorization, Value: "Bearer " + d.token})
	} else {
		f.Headers = append(f.Headers, stomp.Header{Key: stomp.HdrLogin, Value: d.login},
			stomp.Header{Key: stomp.HdrPasscode, Value: d.passcode})
	}
	if err := s.write(f); err != nil {
		s.abort()
		return nil, err
	}
	select {
	case <-s.connected:
		return s, nil
	case <-s.done:
		return nil, s.reason()
	case <-ctx.Done():
		s.abort()
		return nil, ctx.Err()
	}
}

// subscribe subscribes to destination with id and waits for the RECEIPT.
func (s *stompSession) subscribe(ctx context.Context, id, destination string) error {
	ch := make(chan error, 1)
	err := s.request(&stomp.Frame{Command: stomp.CmdSubscribe, Headers: []stomp.Header{
		{Key: stomp.HdrID, Value: id},
		{Key: stomp.HdrDestination, Value: destination},
		{Key: stomp.HdrAck, Value: "auto"},
	}}, func(err error) { ch <- err })
	if err != nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no receipt for SUBSCRIBE %s: %w", destination, ctx.Err())
	}
}

// send sends body to destination asking for a RECEIPT; onReceipt runs on the read goroutine
// with nil when it comes, or with the reason it never will.
func (s *stompSession) send(destination string, body []byte, onReceipt func(error)) error {
	return s.request(&stomp.Frame{Command: stomp.CmdSend, Headers: []stomp.Header{
		{Key: stomp.HdrDestination, Value: destination},
		{Key: stomp.HdrContentType, Value: "application/json"},
	}, Body: body}, onReceipt)
}

func (s *stompSession) request(f *stomp.Frame, onReceipt func(error)) error {
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return err
	}
	s.nextID++
	id := strconv.FormatUint(s.nextID, 10)
	s.receipts[id] = onReceipt
	s.mu.Unlock()
	f.Headers = append(f.Headers, stomp.Header{Key: stomp.HdrReceipt, Value: id})
	if err := s.write(f); err != nil {
		s.mu.Lock()
		delete(s.receipts, id)
		s.mu.Unlock()
		return err
	}
	return nil
}

func (s *stompSession) write(f *stomp.Frame) error {
	b := stomp.AppendFrame(make([]byte, 0, 256+len(f.Body)), f, s.version)
	return s.ws.WriteMessage(gws.OpcodeText, b)
}

// heartBeat sends one heart-beat.
func (s *stompSession) heartBeat() error {
	return s.ws.WriteMessage(gws.OpcodeText, stomp.HeartbeatEOL)
}

// close ends the session: DISCONNECT, then the socket.
func (s *stompSession) close() {
	_ = s.write(&stomp.Frame{Command: stomp.CmdDisconnect})
	_ = s.ws.WriteClose(1000, nil)
	s.abort()
	<-s.done
}

func (s *stompSession) abort() { _ = s.ws.NetConn().Close() }

// reason returns why the session ended.
func (s *stompSession) reason() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		return errSessionClosed
	}
	return s.err
}

func (s *stompSession) handle(f *stomp.Frame) {
	switch f.Command {
	case stomp.CmdMessage:
		if s.onMessage != nil {
			s.onMessage(f)
		}
	case stomp.CmdReceipt:
		id, _ := f.Get(stomp.HdrReceiptID)
		s.settle(id, nil)
	case stomp.CmdConnected:
		s.version, _ = f.Get(stomp.HdrVersion)
		if s.version == "" {
			s.version = stomp.V10
		}
		s.dec.SetVersion(s.version)
		close(s.connected)
	case stomp.CmdError:
		msg, _ := f.Get(stomp.HdrMessage)
		err := fmt.Errorf("ERROR frame: %s: %s", msg, f.Body)
		s.mu.Lock()
		if s.err == nil {
			s.err = err
		}
		s.mu.Unlock()
		if id, ok := f.Get(stomp.HdrReceiptID); ok {
			s.settle(id, err)
		}
	}
}

func (s *stompSession) settle(id string, err error) {
	s.mu.Lock()
	fn := s.receipts[id]
	delete(s.receipts, id)
	s.mu.Unlock()
	if fn != nil {
		fn(err)
	}
}

// finish runs as the read goroutine ends: pending receipts fail, done closes.
func (s *stompSession) finish(cause error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = errSessionClosed
		if cause != nil {
			s.err = fmt.Errorf("%w: %w", errSessionClosed, cause)
		}
	}
	err, pending := s.err, s.receipts
	s.receipts = map[string]func(error){}
	s.mu.Unlock()
	for _, fn := range pending {
		fn(err)
	}
	close(s.done)
}

// sessionEvents receives the WebSocket events of a stompSession on its read goroutine.
type sessionEvents struct{ s *stompSession }

func (e sessionEvents) OnOpen(*gws.Conn)               {}
func (e sessionEvents) OnClose(_ *gws.Conn, err error) { e.s.finish(err) }
func (e sessionEvents) OnPing(c *gws.Conn, p []byte)   { _ = c.WritePong(p) }
func (e sessionEvents) OnPong(*gws.Conn, []byte)       {}
func (e sessionEvents) OnMessage(_ *gws.Conn, m *gws.Message) {
	_ = e.s.dec.Write(m.Bytes())
	m.Close()
	for {
		f, err := e.s.dec.Next()
		if err != nil {
			e.s.mu.Lock()
			if e.s.err == nil {
				e.s.err = fmt.Errorf("malformed frame: %w", err)
			}
			e.s.mu.Unlock()
			e.s.abort()
			return
		}
		if f == nil {
			return
		}
		e.s.handle(f)
	}
}

// noStorage is a session storage that keeps nothing: these connections need none, and
// the default one costs a map per connection.
type noStorage struct{}

func (noStorage) Len() int                     { return 0 }
func (noStorage) Load(string) (any, bool)      { return nil, false }
func (noStorage) Delete(string)                {}
func (noStorage) Store(string, any)            {}
func (noStorage) Range(func(string, any) bool) {}
