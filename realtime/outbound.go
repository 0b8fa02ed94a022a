package realtime

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/stomp"
)

// What an outbound item is.
const (
	itemFrame     uint8 = iota // frame holds a complete STOMP frame
	itemMessage                // a MESSAGE of event ev for subscription sub
	itemHeartbeat              // a heart-beat EOL
	itemPong                   // a WebSocket pong; frame holds its payload
	itemClose                  // a WebSocket close with code and reason (frame); then the end
)

// outItem is one queued WebSocket message. A MESSAGE is kept as its shared event encoding
// and its subscription rather than as bytes, so that a burst to a room of a thousand costs
// one copy of the body, not a thousand.
type outItem struct {
	kind  uint8
	code  uint16
	frame []byte
	ev    *wireEvent
	sub   *subscription
}

// WebSocket opcodes.
const (
	opText  = 0x1
	opClose = 0x8
	opPong  = 0xA
)

const (
	// flushAt is the size at which a writer sends what it has gathered so far.
	flushAt = 64 << 10
	// keepSpare is the largest queue array a session keeps between bursts.
	keepSpare = 64
	// closeGrace is how long a closing connection waits for the peer's close frame.
	closeGrace = 2 * time.Second
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// enqueue adds it to the queue unless the session is closing, starting the writer when it
// is not running. When the queue is full the session is a slow consumer: its queue is
// dropped and replaced by an ERROR and a close. enqueue never blocks on the network.
func (ss *session) enqueue(it outItem, size int) { ss.enqueueTo(it, size, nil) }

// enqueueTo is enqueue; when a writer is to be started and later is not nil, the session is
// appended to later instead, and the caller must start its writer (startWriters) once done
// queuing: what it queues meanwhile then goes out in one write.
func (ss *session) enqueueTo(it outItem, size int, later *[]*session) {
	ss.outMu.Lock()
	if ss.outClosed {
		ss.outMu.Unlock()
		return
	}
	if len(ss.out) >= ss.srv.opt.OutboundQueue || ss.outBytes+size > ss.srv.opt.OutboundBytes {
		start := ss.overflowLocked()
		ss.outMu.Unlock()
		if start {
			ss.startWriter(later)
		}
		ss.srv.met.slowConsumers.Inc()
		ss.srv.log.Info("slow consumer disconnected", "conn", ss.id, "user", ss.user)
		return
	}
	ss.out = append(ss.out, it)
	ss.outBytes += size
	start := ss.claimWriterLocked()
	ss.outMu.Unlock()
	if start {
		ss.startWriter(later)
	}
}

// startWriter starts the writer that claimWriterLocked claimed, or leaves it to the caller
// of enqueueTo when later is not nil.
func (ss *session) startWriter(later *[]*session) {
	if later != nil {
		*later = append(*later, ss)
		return
	}
	go ss.writeLoop()
}

// startWriters starts the writers enqueueTo left to its caller, and empties later.
func startWriters(later *[]*session) {
	for i, ss := range *later {
		go ss.writeLoop()
		(*later)[i] = nil
	}
	*later = (*later)[:0]
}

// enqueueMessage queues a MESSAGE of ev for sub; the hub calls it. See enqueueTo for later.
func (ss *session) enqueueMessage(ev *wireEvent, sub *subscription, later *[]*session) {
	ss.enqueueTo(outItem{kind: itemMessage, ev: ev, sub: sub}, len(ev.tail)+len(sub.hdr)+48, later)
}

// enqueueFrame encodes f for the session's version and queues it.
func (ss *session) enqueueFrame(f *stomp.Frame) {
	b := stomp.AppendFrame(nil, f, ss.version)
	ss.enqueue(outItem{kind: itemFrame, frame: b}, len(b))
}

// enqueueControl queues a WebSocket control message.
func (ss *session) enqueueControl(it outItem) { ss.enqueue(it, len(it.frame)+16) }

// heartbeat queues an EOL when nothing else is on its way.
func (ss *session) heartbeat() {
	ss.outMu.Lock()
	idle := !ss.writing && len(ss.out) == 0
	ss.outMu.Unlock()
	if idle {
		ss.enqueue(outItem{kind: itemHeartbeat}, 1)
	}
}

// closeWith queues a WebSocket close after whatever is queued; nothing is queued after it.
func (ss *session) closeWith(code uint16, reason string) {
	ss.state.Store(stateClosing)
	ss.outMu.Lock()
	if ss.outClosed {
		ss.outMu.Unlock()
		return
	}
	ss.out = append(ss.out, outItem{kind: itemClose, code: code, frame: []byte(reason)})
	ss.outClosed = true
	start := ss.claimWriterLocked()
	ss.outMu.Unlock()
	if start {
		go ss.writeLoop()
	}
}

// overflowLocked replaces the queue of a slow consumer with an ERROR and a close. It reports
// whether the caller is to start the writer, once it has unlocked outMu.
func (ss *session) overflowLocked() (startWriter bool) {
	ss.state.Store(stateClosing)
	ss.slow = true
	clear(ss.out)
	ss.out, ss.outBytes = ss.out[:0], 0
	f := &stomp.Frame{Command: stomp.CmdError, Headers: []stomp.Header{
		{Key: stomp.HdrMessage, Value: plop.EUnavailable},
		{Key: stomp.HdrContentType, Value: "text/plain;charset=utf-8"},
	}, Body: []byte("the connection could not keep up with its messages; reconnect and fetch the missed ones from history")}
	ss.out = append(ss.out,
		outItem{kind: itemFrame, frame: stomp.AppendFrame(nil, f, ss.version)},
		outItem{kind: itemClose, code: closeTryAgainLtr, frame: []byte("slow consumer")})
	ss.outClosed = true
	return ss.claimWriterLocked()
}

// claimWriterLocked marks the writer as running and reports whether it was not, in which
// case the caller starts it with `go ss.writeLoop()` after unlocking outMu, so that the new
// writer does not begin by waiting for the lock its starter holds.
func (ss *session) claimWriterLocked() bool {
	if ss.writing {
		return false
	}
	ss.writing = true
	ss.srv.sessions.Add(1)
	return true
}

// writeLoop drains the queue, several WebSocket messages per write, and exits once the
// queue is empty: an idle connection has no writer goroutine.
func (ss *session) writeLoop() {
	defer ss.srv.sessions.Done()
	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 4*flushAt {
			bufPool.Put(bp)
		}
	}()
	var dl writeDeadline
	for {
		ss.outMu.Lock()
		items := ss.out
		if len(items) == 0 {
			ss.writing = false
			ss.out, ss.spare = nil, nil
			ss.outMu.Unlock()
			// Leave no deadline behind for the writes gws makes itself (close replies).
			if !dl.at.IsZero() {
				_ = ss.nc.SetWriteDeadline(time.Time{})
			}
			return
		}
		ss.out, ss.spare, ss.outBytes = ss.spare, nil, 0
		ss.outMu.Unlock()

		buf, err := (*bp)[:0], error(nil)
		var last *outItem
		for i := range items {
			it := &items[i]
			if it.kind == itemClose {
				last = it
				break
			}
			buf = ss.appendItem(buf, it)
			if len(buf) >= flushAt {
				if err = ss.write(buf, &dl); err != nil {
					break
				}
				buf = buf[:0]
			}
		}
		if err == nil {
			err = ss.write(buf, &dl)
		}
		*bp = buf
		if err == nil && last != nil {
			ss.finish(last.code, last.frame)
		}
		clear(items)
		ss.outMu.Lock()
		if err != nil || last != nil {
			counted := ss.slow
			ss.outClosed, ss.slow = true, true
			clear(ss.out)
			ss.out, ss.spare, ss.outBytes = nil, nil, 0
			ss.writing = false
			ss.outMu.Unlock()
			if err != nil {
				if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() && !counted {
					// The peer took nothing for WriteTimeout: a slow consumer too.
					ss.srv.met.slowConsumers.Inc()
					ss.srv.log.Info("slow consumer disconnected: write timed out", "conn", ss.id, "user", ss.user)
				} else {
					ss.srv.log.Debug("websocket write", "conn", ss.id, "err", err)
				}
				ss.abort()
			}
			return
		}
		if ss.spare == nil && cap(items) <= keepSpare {
			ss.spare = items[:0]
		}
		ss.outMu.Unlock()
	}
}

// writeDeadline is the write deadline a writer last set on its connection (zero: none).
type writeDeadline struct{ at time.Time }

// write writes b with a deadline of at least WriteTimeout from now. A deadline costs a timer
// update in the runtime, so a writer that writes often moves it only when less than
// WriteTimeout is left: each write gets between WriteTimeout and WriteTimeout plus
// deadlineSlack.
func (ss *session) write(b []byte, dl *writeDeadline) error {
	if len(b) == 0 {
		return nil
	}
	wt := ss.srv.opt.WriteTimeout
	if now := time.Now(); dl.at.Sub(now) < wt {
		dl.at = now.Add(wt + deadlineSlack(wt))
		_ = ss.nc.SetWriteDeadline(dl.at)
	}
	_, err := ss.nc.Write(b)
	ss.lastWrite.Store(time.Now().UnixNano())
	return err
}

// deadlineSlack is how much longer than WriteTimeout a write deadline may be: at most a
// second, and a quarter of the timeout for short ones.
func deadlineSlack(wt time.Duration) time.Duration { return min(time.Second, wt/4) }

// appendItem appends the WebSocket message of it to b.
func (ss *session) appendItem(b []byte, it *outItem) []byte {
	switch it.kind {
	case itemFrame:
		ss.srv.met.framesOut.Inc()
		b = appendWSHeader(b, opText, len(it.frame))
		return append(b, it.frame...)
	case itemHeartbeat:
		b = appendWSHeader(b, opText, 1)
		return append(b, '\n')
	case itemPong:
		b = appendWSHeader(b, opPong, len(it.frame))
		return append(b, it.frame...)
	case itemMessage:
		if !it.sub.active.Load() {
			return b
		}
		ss.srv.met.framesOut.Inc()
		// MESSAGE, subscription and message-id first, then the event's shared headers and
		// body: header order means nothing in STOMP.
		var num [20]byte
		id := strconv.AppendUint(num[:0], ss.srv.msgSeq.Add(1), 10)
		const (
			cmd   = stomp.CmdMessage + "\n"
			msgID = stomp.HdrMessageID + ":"
		)
		n := len(cmd) + len(it.sub.hdr) + len(msgID) + len(id) + 1 + len(it.ev.tail)
		b = appendWSHeader(b, opText, n)
		b = append(b, cmd...)
		b = append(b, it.sub.hdr...)
		b = append(b, msgID...)
		b = append(b, id...)
		b = append(b, '\n')
		return append(b, it.ev.tail...)
	}
	return b
}

// finish sends the WebSocket close, then half-closes the connection and gives the peer
// closeGrace to answer; the read goroutine ends when it does, or when the grace is over.
func (ss *session) finish(code uint16, reason []byte) {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	var buf [4 + 125]byte
	b := appendWSHeader(buf[:0], opClose, 2+len(reason))
	b = append(b, byte(code>>8), byte(code))
	b = append(b, reason...)
	wrote, err := ss.gc.sendClose(func() error { return ss.write(b, &writeDeadline{}) })
	if err != nil || !wrote { // a failed write, or the peer closed first and gws answered
		ss.abort()
		return
	}
	if cw, ok := ss.nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		_ = ss.nc.SetReadDeadline(deadline(closeGrace))
		return
	}
	ss.abort()
}

// appendWSHeader appends the header of an unmasked, final WebSocket frame (the server
// never masks) of opcode op with an n-byte payload.
func appendWSHeader(b []byte, op byte, n int) []byte {
	b = append(b, 0x80|op)
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xFFFF:
		return append(b, 126, byte(n>>8), byte(n))
	}
	return append(b, 127, 0, 0, 0, byte(uint64(n)>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}
