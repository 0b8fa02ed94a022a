package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lxzan/gws"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/stomp"
)

// ErrSTOMPClosed is returned by calls on a STOMP connection that has ended without an ERROR
// frame (after Close, or when the network failed).
var ErrSTOMPClosed = errors.New("plop stomp: connection closed")

// STOMPError is an ERROR frame from the server: Code is its message header (a plop error
// code such as "forbidden"), Message its body. It unwraps to a *plop.Error.
type STOMPError struct {
	Code      string
	Message   string
	ReceiptID string // the receipt of the frame that failed, when it asked for one
}

func (e *STOMPError) Error() string { return "plop stomp: " + e.Code + ": " + e.Message }

// Unwrap returns the error as a *plop.Error, so that plop.ErrorCode reads its code.
func (e *STOMPError) Unwrap() error { return &plop.Error{Code: e.Code, Message: e.Message} }

// STOMPOption configures DialSTOMP.
type STOMPOption func(*stompConfig)

type stompConfig struct {
	send, recv  time.Duration // heart-beats we offer to send, and wish to receive
	eventBuffer int
	header      http.Header
	readBuffer  int
}

// WithHeartBeat sets the heart-beats offered in CONNECT: send is how often this client can
// send one, recv how often it wants one from the server; 0 disables that direction.
// Default 10s both ways. The connection fails when the server stays silent for twice the
// negotiated interval.
func WithHeartBeat(send, recv time.Duration) STOMPOption {
	return func(c *stompConfig) { c.send, c.recv = send, recv }
}

// WithEventBuffer sets the capacity of each Subscription's channel. Default 256. A full
// channel holds up the reading of the whole connection until it is drained; a server
// disconnects a client that falls too far behind.
func WithEventBuffer(n int) STOMPOption {
	return func(c *stompConfig) { c.eventBuffer = max(1, n) }
}

// WithWebSocketHeader adds HTTP headers to the WebSocket handshake (an Origin, say).
func WithWebSocketHeader(h http.Header) STOMPOption {
	return func(c *stompConfig) { c.header = h }
}

// STOMPConn is a STOMP connection to a Plop server over WebSocket. It is safe for
// concurrent use. It runs one goroutine, reading; writes happen on the caller's goroutine,
// and heart-beats on a timer, so thousands of connections in one process stay cheap.
type STOMPConn struct {
	ws  *gws.Conn
	cfg stompConfig

	// Set from CONNECTED, before DialSTOMP returns.
	version   string
	session   string
	userID    string
	hbSend    time.Duration // how often we must send something
	hbRecv    time.Duration // how often the server sends something
	connected chan struct{}

	dec       *stomp.Decoder // read goroutine only
	lastRead  atomic.Int64
	lastWrite atomic.Int64
	timer     *time.Timer

	mu       sync.Mutex
	nextID   uint64
	receipts map[string]*pendingReceipt
	subs     map[string]*Subscription
	err      error         // why the connection ended, once it has
	done     chan struct{} // closed when the read goroutine has finished
	errc     chan error
	closing  chan struct{} // closed by Close: deliveries stop waiting for readers
	closeMu  sync.Once
}

type pendingReceipt struct {
	ch        chan receiptResult // capacity 1
	onReceipt func()             // run on the read goroutine when the RECEIPT arrives
}

type receiptResult struct {
	frame *stomp.Frame
	err   error
}

// DialSTOMP opens a WebSocket to wsURL (ws:// or wss://, such as ws://host:8080/ws),
// authenticates with accessToken in the CONNECT frame, and returns once CONNECTED arrives.
// An ERROR instead is returned as a *STOMPError.
func DialSTOMP(ctx context.Context, wsURL, accessToken string, opts ...STOMPOption) (*STOMPConn, error) {
	cfg := stompConfig{send: 10 * time.Second, recv: 10 * time.Second, eventBuffer: 256, readBuffer: 1024}
	for _, o := range opts {
		o(&cfg)
	}
	u, err := url.Parse(wsURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("plop stomp: %q is not a ws:// or wss:// URL", wsURL)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[string]string{"ws": "80", "wss": "443"}[u.Scheme])
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("plop stomp: dial %s: %w", host, err)
	}
	if u.Scheme == "wss" {
		tc := tls.Client(nc, &tls.Config{ServerName: u.Hostname()})
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("plop stomp: tls: %w", err)
		}
		nc = tc
	}
	// Until CONNECTED, the context bounds everything by closing the connection.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()

	c := &STOMPConn{
		cfg:       cfg,
		dec:       stomp.NewDecoder(stomp.Limits{MaxFrameSize: 1 << 20}),
		connected: make(chan struct{}),
		receipts:  make(map[string]*pendingReceipt),
		subs:      make(map[string]*Subscription),
		done:      make(chan struct{}),
		errc:      make(chan error, 1),
		closing:   make(chan struct{}),
	}
	hdr := http.Header{}
	for k, v := range cfg.header {
		hdr[k] = v
	}
	hdr.Set("Sec-WebSocket-Protocol", "v12.stomp, v11.stomp, v10.stomp")
	timeout := 30 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	ws, _, err := gws.NewClientFromConn(stompHandler{c}, &gws.ClientOption{
		Addr:             wsURL,
		RequestHeader:    hdr,
		HandshakeTimeout: timeout,
		ReadBufferSize:   cfg.readBuffer,
	}, nc)
	if err != nil {
		return nil, fmt.Errorf("plop stomp: websocket handshake: %w", errors.Join(err, ctx.Err()))
	}
	c.ws = ws
	now := time.Now().UnixNano()
	c.lastRead.Store(now)
	c.lastWrite.Store(now)
	go ws.ReadLoop()

	connect := &stomp.Frame{Command: stomp.CmdConnect, Headers: []stomp.Header{
		{Key: stomp.HdrAcceptVersion, Value: "1.2,1.1,1.0"},
		{Key: stomp.HdrHost, Value: u.Hostname()},
		{Key: stomp.HdrHeartBeat, Value: stomp.FormatHeartBeat(cfg.send, cfg.recv)},
		{Key: stomp.HdrAuthorization, Value: "Bearer " + accessToken},
	}}
	if err := c.write(connect); err != nil {
		c.abort()
		<-c.done
		return nil, c.endErr(err)
	}
	select {
	case <-c.connected:
	case <-c.done:
		return nil, c.endErr(ctx.Err())
	case <-ctx.Done():
		c.abort()
		<-c.done
		return nil, fmt.Errorf("plop stomp: connect: %w", ctx.Err())
	}
	c.startHeartBeats()
	return c, nil
}

// endErr returns why the connection ended, preferring an ERROR frame over fallback.
func (c *STOMPConn) endErr(fallback error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var se *STOMPError
	if errors.As(c.err, &se) || fallback == nil {
		return c.err
	}
	return fmt.Errorf("plop stomp: %w", fallback)
}

// Session returns the server's session id of the connection (its connection id).
func (c *STOMPConn) Session() string { return c.session }

// UserID returns the id of the authenticated user (the user-name of CONNECTED).
func (c *STOMPConn) UserID() string { return c.userID }

// Version returns the negotiated STOMP version.
func (c *STOMPConn) Version() string { return c.version }

// Err returns a channel that receives why the connection ended (a *STOMPError for an ERROR
// frame, ErrSTOMPClosed after Close or a network failure), then is closed.
func (c *STOMPConn) Err() <-chan error { return c.errc }

// Done is closed once the connection has ended.
func (c *STOMPConn) Done() <-chan struct{} { return c.done }

// Close sends DISCONNECT, waits (a few seconds at most) for its RECEIPT so that everything
// sent before has been handled, and closes the connection.
func (c *STOMPConn) Close() error {
	first := false
	c.closeMu.Do(func() { first = true; close(c.closing) })
	if !first {
		<-c.done
		return nil
	}
	select {
	case <-c.done:
		return nil // it had ended already
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.request(ctx, &stomp.Frame{Command: stomp.CmdDisconnect}, nil)
	_ = c.ws.WriteClose(1000, nil)
	c.abort()
	<-c.done
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("plop stomp: close: no receipt for DISCONNECT: %w", err)
	}
	return nil
}

// abort cuts the connection; the read goroutine then finishes.
func (c *STOMPConn) abort() { _ = c.ws.NetConn().Close() }

// write encodes f for the negotiated version and sends it as one WebSocket message.
func (c *STOMPConn) write(f *stomp.Frame) error {
	b := stomp.AppendFrame(nil, f, c.version)
	if err := c.ws.WriteMessage(gws.OpcodeText, b); err != nil {
		return fmt.Errorf("plop stomp: write %s: %w", f.Command, err)
	}
	c.lastWrite.Store(time.Now().UnixNano())
	return nil
}

// request sends f with a fresh receipt header and waits for the RECEIPT; onReceipt, when
// set, runs on the read goroutine as the RECEIPT arrives.
func (c *STOMPConn) request(ctx context.Context, f *stomp.Frame, onReceipt func()) (*stomp.Frame, error) {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.nextID++
	id := "r-" + strconv.FormatUint(c.nextID, 10)
	p := &pendingReceipt{ch: make(chan receiptResult, 1), onReceipt: onReceipt}
	c.receipts[id] = p
	c.mu.Unlock()
	f.Set(stomp.HdrReceipt, id)
	if err := c.write(f); err != nil {
		c.forget(id)
		return nil, c.endErrOr(err)
	}
	select {
	case r := <-p.ch:
		return r.frame, r.err
	case <-ctx.Done():
		c.forget(id)
		return nil, fmt.Errorf("plop stomp: waiting for the receipt of %s: %w", f.Command, ctx.Err())
	}
}

func (c *STOMPConn) forget(receipt string) {
	c.mu.Lock()
	delete(c.receipts, receipt)
	c.mu.Unlock()
}

// endErrOr returns the reason the connection ended when it has, else err.
func (c *STOMPConn) endErrOr(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	return err
}
