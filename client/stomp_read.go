package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lxzan/gws"

	"github.com/plop-chat/plop/stomp"
)

// stompHandler receives the WebSocket events of one STOMPConn on its read goroutine.
type stompHandler struct{ c *STOMPConn }

func (h stompHandler) OnOpen(*gws.Conn)                      {}
func (h stompHandler) OnClose(_ *gws.Conn, err error)        { h.c.finish(err) }
func (h stompHandler) OnPong(*gws.Conn, []byte)              { h.c.touch() }
func (h stompHandler) OnPing(ws *gws.Conn, p []byte)         { h.c.touch(); _ = ws.WritePong(p) }
func (h stompHandler) OnMessage(_ *gws.Conn, m *gws.Message) { h.c.onMessage(m) }

func (c *STOMPConn) touch() { c.lastRead.Store(time.Now().UnixNano()) }

func (c *STOMPConn) onMessage(m *gws.Message) {
	c.touch()
	_ = c.dec.Write(m.Bytes()) // a failure comes back from Next
	m.Close()
	for {
		f, err := c.dec.Next()
		if err != nil {
			c.setErr(fmt.Errorf("plop stomp: malformed frame from the server: %w", err))
			c.abort()
			return
		}
		if f == nil {
			return
		}
		c.handle(f)
	}
}

// handle runs one server frame on the read goroutine.
func (c *STOMPConn) handle(f *stomp.Frame) {
	switch f.Command {
	case stomp.CmdConnected:
		c.onConnected(f)
	case stomp.CmdMessage:
		c.onMessageFrame(f)
	case stomp.CmdReceipt:
		id, _ := f.Get(stomp.HdrReceiptID)
		c.settle(id, receiptResult{frame: f})
	case stomp.CmdError:
		se := &STOMPError{Code: header(f, stomp.HdrMessage), Message: string(f.Body), ReceiptID: header(f, stomp.HdrReceiptID)}
		c.setErr(se)
		if se.ReceiptID != "" {
			c.settle(se.ReceiptID, receiptResult{err: se})
		}
		// The server closes the connection after an ERROR.
	}
}

func (c *STOMPConn) onConnected(f *stomp.Frame) {
	select {
	case <-c.connected:
		return // a second CONNECTED means nothing
	default:
	}
	c.version = header(f, stomp.HdrVersion)
	if c.version == "" {
		c.version = stomp.V10
	}
	c.session = header(f, stomp.HdrSession)
	c.userID = header(f, "user-name")
	sx, sy, err := stomp.ParseHeartBeat(header(f, stomp.HdrHeartBeat))
	if err == nil {
		// Seen from the server, as the specification states it: it sends every
		// max(sx, cy); the client sends every max(cx, sy).
		c.hbRecv, _ = stomp.NegotiateHeartBeat(c.cfg.send, c.cfg.recv, sx, sy)
		c.hbSend, _ = stomp.NegotiateHeartBeat(sx, sy, c.cfg.send, c.cfg.recv)
	}
	c.dec.SetVersion(c.version)
	close(c.connected)
}

func (c *STOMPConn) onMessageFrame(f *stomp.Frame) {
	id := header(f, stomp.HdrSubscription)
	c.mu.Lock()
	sub := c.subs[id]
	c.mu.Unlock()
	if sub == nil {
		return
	}
	ev := Event{RoomID: header(f, "room-id"), Headers: make(map[string]string, len(f.Headers)), Body: f.Body}
	for _, h := range f.Headers {
		if _, ok := ev.Headers[h.Key]; !ok {
			ev.Headers[h.Key] = h.Value
		}
	}
	if s := header(f, "seq"); s != "" {
		ev.Seq, _ = strconv.ParseInt(s, 10, 64)
	}
	var body struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(f.Body, &body) == nil {
		ev.Type = body.Type
	}
	select {
	case sub.c <- ev:
	case <-sub.done:
	case <-c.closing:
	}
}

// settle hands the answer to the frame that asked for receipt id.
func (c *STOMPConn) settle(id string, r receiptResult) {
	c.mu.Lock()
	p := c.receipts[id]
	delete(c.receipts, id)
	c.mu.Unlock()
	if p == nil {
		return
	}
	if p.onReceipt != nil && r.err == nil {
		p.onReceipt()
	}
	p.ch <- r
}

// setErr records why the connection ends; the first reason wins.
func (c *STOMPConn) setErr(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// finish runs once, as the read goroutine ends: every waiting call gets the reason, every
// subscription channel is closed, and Err delivers the reason.
func (c *STOMPConn) finish(cause error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = ErrSTOMPClosed
		if cause != nil && !isNormalClose(cause) {
			c.err = fmt.Errorf("%w: %w", ErrSTOMPClosed, cause)
		}
	}
	err := c.err
	pending, subs := c.receipts, c.subs
	c.receipts, c.subs = map[string]*pendingReceipt{}, map[string]*Subscription{}
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	for _, p := range pending {
		p.ch <- receiptResult{err: err}
	}
	for _, s := range subs {
		close(s.c)
	}
	c.errc <- err
	close(c.errc)
	close(c.done)
}

func isNormalClose(err error) bool {
	var ce *gws.CloseError
	return errors.As(err, &ce) && (ce.Code == 1000 || ce.Code == 1001)
}

// startHeartBeats arms the one timer that sends heart-beats and watches the server's.
func (c *STOMPConn) startHeartBeats() {
	tick := time.Duration(0)
	for _, d := range []time.Duration{c.hbSend, c.hbRecv} {
		if d > 0 && (tick == 0 || d/2 < tick) {
			tick = d / 2
		}
	}
	if tick <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.timer = time.AfterFunc(tick, func() { c.beat(tick) })
}

func (c *STOMPConn) beat(tick time.Duration) {
	now := time.Now().UnixNano()
	if c.hbRecv > 0 && time.Duration(now-c.lastRead.Load()) > 2*c.hbRecv {
		c.setErr(errors.New("plop stomp: heart-beat timeout: the server fell silent"))
		c.abort()
		return
	}
	if c.hbSend > 0 && time.Duration(now-c.lastWrite.Load()) >= c.hbSend-tick {
		if c.ws.WriteMessage(gws.OpcodeText, stomp.HeartbeatEOL) == nil {
			c.lastWrite.Store(now)
		}
	}
	c.mu.Lock()
	if c.err == nil {
		c.timer.Reset(tick)
	}
	c.mu.Unlock()
}

// header returns the first value of key in f, "" when absent.
func header(f *stomp.Frame, key string) string {
	v, _ := f.Get(key)
	return v
}
