package realtime

import (
	"context"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/stomp"
)

// sweepTick returns how often the sweeper runs: every second, or more often when the
// configured intervals are shorter.
func (s *Server) sweepTick() time.Duration {
	t := time.Second
	if hb := s.opt.HeartBeat; hb > 0 {
		t = min(t, hb/2)
	}
	t = min(t, s.opt.ConnectTimeout/2)
	return max(t, 10*time.Millisecond)
}

// sweep is the one goroutine that keeps time for every connection, instead of a timer per
// connection: each tick it sends heart-beats to sessions that have been quiet, closes those
// whose peer has been silent too long, and those that never sent CONNECT.
func (s *Server) sweep(ctx context.Context) {
	tick := s.sweepTick()
	t := time.NewTicker(tick)
	defer t.Stop()
	var batch []*session
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for i := range s.conns.shards {
				sh := &s.conns.shards[i]
				sh.mu.Lock()
				for ss := range sh.m {
					batch = append(batch, ss)
				}
				sh.mu.Unlock()
				for _, ss := range batch {
					ss.sweep(now.UnixNano(), tick)
				}
				clear(batch)
				batch = batch[:0]
			}
		}
	}
}

// sweep checks one session's clocks.
func (ss *session) sweep(now int64, tick time.Duration) {
	switch ss.state.Load() {
	case stateAwaitConnect:
		if time.Duration(now-ss.born) > ss.srv.opt.ConnectTimeout && ss.state.CompareAndSwap(stateAwaitConnect, stateClosing) {
			ss.failFromOutside(plop.EUnauthenticated, "no CONNECT frame in time")
		}
	case stateOpen:
		if ss.readLimit > 0 && time.Duration(now-ss.lastRead.Load()) > ss.readLimit {
			ss.srv.met.heartbeatTimeouts.Inc()
			ss.closeWith(closeGoingAway, "heart-beat timeout")
			return
		}
		if ss.sendEvery > 0 && time.Duration(now-ss.lastWrite.Load()) >= ss.sendEvery-tick {
			ss.heartbeat()
		}
	}
}

// failFromOutside queues an ERROR and a close from a goroutine other than the read
// goroutine: it touches none of the read side's fields (the frame is encoded as 1.2).
func (ss *session) failFromOutside(code, msg string) {
	f := &stomp.Frame{Command: stomp.CmdError, Headers: []stomp.Header{
		{Key: stomp.HdrMessage, Value: code},
		{Key: stomp.HdrContentType, Value: "text/plain;charset=utf-8"},
	}, Body: []byte(msg)}
	b := stomp.AppendFrame(nil, f, stomp.V12)
	ss.enqueue(outItem{kind: itemFrame, frame: b}, len(b))
	ss.closeWith(closePolicy, code)
}
