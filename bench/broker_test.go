package bench

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lxzan/gws"

	"github.com/plop-chat/plop/stomp"
)

// testBroker is a minimal STOMP-over-WebSocket broker standing in for RabbitMQ's Web-STOMP
// in tests of --target: login and passcode, SUBSCRIBE, SEND fanned out to the subscribers
// of its destination, receipts.
type testBroker struct {
	URL string // stomp-ws://127.0.0.1:PORT/ws

	mu    sync.Mutex
	subs  map[string]map[*brokerConn]string // destination -> subscriber -> subscription id
	msgID atomic.Int64
	conns atomic.Int64
}

type brokerConn struct {
	b   *testBroker
	ws  *gws.Conn
	dec *stomp.Decoder
}

func startTestBroker(tb testing.TB, login, passcode string) *testBroker {
	tb.Helper()
	b := &testBroker{subs: map[string]map[*brokerConn]string{}}
	up := gws.NewUpgrader(brokerEvents{b, login, passcode}, &gws.ServerOption{
		SubProtocols: []string{"v12.stomp"},
		NewSession:   func() gws.SessionStorage { return &sessionSlot{} },
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		c := &brokerConn{b: b, ws: ws, dec: stomp.NewDecoder(stomp.Limits{})}
		ws.Session().Store("conn", c)
		b.conns.Add(1)
		go ws.ReadLoop()
	})}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Shutdown(context.Background()) })
	b.URL = "stomp-ws://" + ln.Addr().String() + "/ws"
	return b
}

func (b *testBroker) open() int64 { return b.conns.Load() }

type brokerEvents struct {
	b               *testBroker
	login, passcode string
}

func connOf(ws *gws.Conn) *brokerConn {
	v, _ := ws.Session().Load("conn")
	c, _ := v.(*brokerConn)
	return c
}

func (e brokerEvents) OnOpen(*gws.Conn)              {}
func (e brokerEvents) OnPing(ws *gws.Conn, p []byte) { _ = ws.WritePong(p) }
func (e brokerEvents) OnPong(*gws.Conn, []byte)      {}
func (e brokerEvents) OnClose(ws *gws.Conn, _ error) {
	c := connOf(ws)
	e.b.conns.Add(-1)
	e.b.mu.Lock()
	for _, m := range e.b.subs {
		delete(m, c)
	}
	e.b.mu.Unlock()
}

func (e brokerEvents) OnMessage(ws *gws.Conn, m *gws.Message) {
	c := connOf(ws)
	_ = c.dec.Write(m.Bytes())
	m.Close()
	for {
		f, err := c.dec.Next()
		if err != nil || f == nil {
			return
		}
		e.handle(c, f)
	}
}

func (e brokerEvents) handle(c *brokerConn, f *stomp.Frame) {
	write := func(f *stomp.Frame) { _ = c.ws.WriteMessage(gws.OpcodeText, stomp.AppendFrame(nil, f, stomp.V12)) }
	receipt := func() {
		if id, ok := f.Get(stomp.HdrReceipt); ok {
			write(&stomp.Frame{Command: stomp.CmdReceipt, Headers: []stomp.Header{{Key: stomp.HdrReceiptID, Value: id}}})
		}
	}
	switch f.Command {
	case stomp.CmdConnect, stomp.CmdStomp:
		l, _ := f.Get(stomp.HdrLogin)
		p, _ := f.Get(stomp.HdrPasscode)
		if l != e.login || p != e.passcode {
			write(&stomp.Frame{Command: stomp.CmdError, Headers: []stomp.Header{{Key: stomp.HdrMessage, Value: "access refused"}}})
			_ = c.ws.NetConn().Close()
			return
		}
		write(&stomp.Frame{Command: stomp.CmdConnected, Headers: []stomp.Header{{Key: stomp.HdrVersion, Value: stomp.V12}}})
	case stomp.CmdSubscribe:
		dest, _ := f.Get(stomp.HdrDestination)
		id, _ := f.Get(stomp.HdrID)
		e.b.mu.Lock()
		if e.b.subs[dest] == nil {
			e.b.subs[dest] = map[*brokerConn]string{}
		}
		e.b.subs[dest][c] = id
		e.b.mu.Unlock()
		receipt()
	case stomp.CmdSend:
		dest, _ := f.Get(stomp.HdrDestination)
		id := strconv.FormatInt(e.b.msgID.Add(1), 10)
		e.b.mu.Lock()
		type target struct {
			c   *brokerConn
			sub string
		}
		var to []target
		for sc, sub := range e.b.subs[dest] {
			to = append(to, target{sc, sub})
		}
		e.b.mu.Unlock()
		for _, t := range to {
			_ = t.c.ws.WriteMessage(gws.OpcodeText, stomp.AppendMessage(nil, dest, t.sub, id, nil, f.Body))
		}
		receipt()
	case stomp.CmdDisconnect:
		receipt()
	}
}

// sessionSlot is the one-value session storage of a test broker connection.
type sessionSlot struct {
	mu sync.Mutex
	v  any
}

func (s *sessionSlot) Len() int { return 1 }
func (s *sessionSlot) Load(string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v, s.v != nil
}
func (s *sessionSlot) Delete(string) { s.mu.Lock(); s.v = nil; s.mu.Unlock() }
func (s *sessionSlot) Store(_ string, v any) {
	s.mu.Lock()
	s.v = v
	s.mu.Unlock()
}
func (s *sessionSlot) Range(f func(string, any) bool) {
	if v, ok := s.Load(""); ok {
		f("conn", v)
	}
}
