package scaleout

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/client"
)

// redial dials u through nginx until it succeeds or ctx ends, backing off up to 500 ms.
// Failures are counted by error code in errs.
func (c *cluster) redial(ctx context.Context, u *user, errs *codeCounts) (*client.STOMPConn, error) {
	backoff := 20 * time.Millisecond
	for {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		conn, err := client.DialSTOMP(dctx, c.WSURL(), u.Tokens.AccessToken)
		cancel()
		if err == nil {
			return conn, nil
		}
		errs.add(err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("redial %s: %w (last error: %v)", u.Name, ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// codeCounts counts failures by plop error code ("closed" for a dropped connection).
type codeCounts struct {
	mu sync.Mutex
	m  map[string]int
}

func (cc *codeCounts) add(err error) {
	code := plop.ErrorCode(err)
	var se *client.STOMPError
	var ce *client.Error
	switch {
	case errors.As(err, &se), errors.As(err, &ce):
	case errors.Is(err, client.ErrSTOMPClosed):
		code = "closed"
	case errors.Is(err, context.DeadlineExceeded):
		code = "timeout"
	default:
		code = "network" // the client's own dial or HTTP failure, not a server answer
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil {
		cc.m = map[string]int{}
	}
	cc.m[code]++
}

func (cc *codeCounts) get(code string) int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.m[code]
}

func (cc *codeCounts) String() string {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return fmt.Sprint(cc.m)
}

// sender sends numbered messages to a room at a steady pace over STOMP, each with a
// receipt. When the connection drops it redials through nginx and sends the same message
// again with the same client_msg_id, until a RECEIPT says it is stored.
type sender struct {
	c     *cluster
	u     *user
	room  string
	every time.Duration
	max   int // messages to send; 0: until stopped

	acked      atomic.Int64 // messages acknowledged so far
	reconnects atomic.Int64
	errs       codeCounts

	mu      sync.Mutex
	receipt map[string]int64 // client_msg_id → seq of its RECEIPT
	pending string           // client_msg_id sent but not acknowledged when the run ended
}

func newSender(c *cluster, u *user, room string, every time.Duration, max int) *sender {
	return &sender{c: c, u: u, room: room, every: every, max: max, receipt: map[string]int64{}}
}

// run sends until max messages are acknowledged, stop is closed or ctx ends. conn is the
// first connection; run closes whichever it holds at the end.
func (s *sender) run(ctx context.Context, conn *client.STOMPConn, stop <-chan struct{}) error {
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	for i := 1; s.max == 0 || i <= s.max; i++ {
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		cid := fmt.Sprintf("%s-%05d", s.u.Name, i)
		in := app.MessageInput{Body: fmt.Sprintf("message %d from %s", i, s.u.Name), ClientMsgID: cid}
		for {
			if conn == nil {
				var err error
				if conn, err = s.c.redial(ctx, s.u, &s.errs); err != nil {
					s.setPending(cid)
					return err
				}
				s.reconnects.Add(1)
			}
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			r, err := conn.SendMessage(sctx, s.room, in)
			cancel()
			if err == nil {
				s.mu.Lock()
				s.receipt[cid] = r.Seq
				s.mu.Unlock()
				s.acked.Add(1)
				break
			}
			s.errs.add(err)
			// Unacknowledged: drop this connection (an ERROR has closed it already) and
			// retry on a new one with the same client_msg_id.
			conn.Close()
			conn = nil
			if ctx.Err() != nil {
				s.setPending(cid)
				return ctx.Err()
			}
		}
	}
	return nil
}

func (s *sender) setPending(cid string) {
	s.mu.Lock()
	s.pending = cid
	s.mu.Unlock()
}

// receiver follows a room as a client would: subscribed to its topic, it keeps the
// messages by seq, and fills any gap from history, after=<highest seq it holds without a
// gap>, on every reconnection, whenever a seq skips ahead, and once more at the end.
type receiver struct {
	c    *cluster
	u    *user
	room string

	live, filled, liveDups, reconnects atomic.Int64
	errs                               codeCounts

	mu       sync.Mutex
	got      map[int64]string // seq → message id
	liveSeen map[int64]bool   // seqs delivered live
	hw       int64            // every seq up to hw is in got
}

func newReceiver(c *cluster, u *user, room string) *receiver {
	return &receiver{c: c, u: u, room: room, got: map[int64]string{}, liveSeen: map[int64]bool{}}
}

// run follows the room until stop is closed, then fills from history a last time.
func (r *receiver) run(ctx context.Context, conn *client.STOMPConn, stop <-chan struct{}) error {
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for {
		if conn == nil {
			var err error
			if conn, err = r.c.redial(ctx, r.u, &r.errs); err != nil {
				return err
			}
			r.reconnects.Add(1)
		}
		sub, err := conn.Subscribe(ctx, client.RoomTopic(r.room))
		if err != nil {
			r.errs.add(err)
			conn.Close()
			conn = nil
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		// Subscribed first, then filled: nothing can fall between the two.
		if err := r.fill(ctx); err != nil {
			return err
		}
		if done, err := r.follow(ctx, sub, stop); done || err != nil {
			if err == nil {
				err = r.fill(ctx)
			}
			return err
		}
		conn.Close() // it ended; redial
		conn = nil
	}
}

// follow reads live events until stop (done true) or the connection ends (done false).
func (r *receiver) follow(ctx context.Context, sub *client.Subscription, stop <-chan struct{}) (done bool, err error) {
	for {
		select {
		case <-stop:
			return true, nil
		case <-ctx.Done():
			return true, ctx.Err()
		case ev, ok := <-sub.C:
			if !ok {
				return false, nil
			}
			if ev.Type != plop.EventMessageCreated {
				continue
			}
			var b eventBody
			if err := ev.Decode(&b); err != nil {
				return true, fmt.Errorf("%s: decode %s: %w", r.u.Name, ev.Body, err)
			}
			if r.add(b.Message, true) {
				if err := r.fill(ctx); err != nil {
					return true, err
				}
			}
		}
	}
}

// add records m and reports whether a gap opened below it.
func (r *receiver) add(m plop.Message, live bool) (gap bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if live {
		// Events of different senders may arrive out of seq order, so a message filled from
		// history may arrive live afterwards; the same message arriving live twice may not.
		if r.liveSeen[m.Seq] {
			r.liveDups.Add(1)
		}
		r.liveSeen[m.Seq] = true
	}
	if _, dup := r.got[m.Seq]; dup {
		return false
	}
	r.got[m.Seq] = m.ID
	if live {
		r.live.Add(1)
	} else {
		r.filled.Add(1)
	}
	for {
		if _, ok := r.got[r.hw+1]; !ok {
			break
		}
		r.hw++
	}
	return m.Seq > r.hw+1
}

// fill reads the history after the high-water mark until the end, retrying through
// outages until ctx ends.
func (r *receiver) fill(ctx context.Context) error {
	backoff := 20 * time.Millisecond
	for {
		r.mu.Lock()
		after := r.hw
		r.mu.Unlock()
		page, err := historyAfter(ctx, r.u.API, r.room, after)
		if err != nil {
			r.errs.add(err)
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s fills from history: %w (last error: %v)", r.u.Name, ctx.Err(), err)
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 500*time.Millisecond)
			continue
		}
		for _, m := range page {
			r.add(m, false)
		}
		if len(page) < plop.MaxPageSize {
			return nil
		}
	}
}

// historyAfter returns the page of messages after seq `after`, oldest first. The API's
// "after" starts past 0 only; the first page is the one before MaxPageSize+1.
func historyAfter(ctx context.Context, api *client.Client, room string, after int64) ([]plop.Message, error) {
	if after == 0 {
		return api.Messages(ctx, room, plop.MaxPageSize+1, 0, plop.MaxPageSize)
	}
	return api.Messages(ctx, room, 0, after, plop.MaxPageSize)
}

// traffic is a set of senders and receivers on one room, each on its own goroutine.
type traffic struct {
	senders   []*sender
	receivers []*receiver

	stopSend, stopRecv chan struct{}
	sending, receiving sync.WaitGroup

	mu   sync.Mutex
	errs []error
}

func (tr *traffic) start(ctx context.Context, sconns, rconns []*client.STOMPConn) {
	tr.stopSend, tr.stopRecv = make(chan struct{}), make(chan struct{})
	for i, s := range tr.senders {
		tr.sending.Go(func() { tr.record(s.run(ctx, sconns[i], tr.stopSend)) })
	}
	for i, r := range tr.receivers {
		tr.receiving.Go(func() { tr.record(r.run(ctx, rconns[i], tr.stopRecv)) })
	}
}

func (tr *traffic) record(err error) {
	if err != nil {
		tr.mu.Lock()
		tr.errs = append(tr.errs, err)
		tr.mu.Unlock()
	}
}

// acked returns how many messages have been acknowledged so far, by all senders.
func (tr *traffic) acked() int64 {
	var n int64
	for _, s := range tr.senders {
		n += s.acked.Load()
	}
	return n
}

// live returns how many messages the receivers got live so far, together.
func (tr *traffic) live() int64 {
	var n int64
	for _, r := range tr.receivers {
		n += r.live.Load()
	}
	return n
}

// finish waits until sendersDone, stops the senders and waits for their last message, then
// stops the receivers and waits for their last fill from history.
func (tr *traffic) finish(tb testing.TB, sendersDone func() bool) {
	tb.Helper()
	waitFor(tb, 60*time.Second, "senders finishing", nil, func() error {
		if sendersDone() {
			return nil
		}
		return fmt.Errorf("%d acknowledged so far", tr.acked())
	})
	close(tr.stopSend)
	tr.sending.Wait()
	close(tr.stopRecv)
	tr.receiving.Wait()
	if len(tr.errs) > 0 {
		tb.Fatalf("traffic failed: %v", errors.Join(tr.errs...))
	}
}

// verify checks the room's history, read through nginx by viewer, against what the senders
// were acknowledged and what every receiver holds, and logs the counts.
func (tr *traffic) verify(tb testing.TB, viewer *user, room string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var history []plop.Message
	for {
		var after int64
		if len(history) > 0 {
			after = history[len(history)-1].Seq
		}
		page, err := historyAfter(ctx, viewer.API, room, after)
		if err != nil {
			tb.Fatalf("read the history: %v", err)
		}
		history = append(history, page...)
		if len(page) < plop.MaxPageSize {
			break
		}
	}
	bySeq := map[int64]string{}
	byCID := map[string][]plop.Message{}
	for i, m := range history {
		if m.Seq != int64(i+1) && !tb.Failed() {
			tb.Errorf("history: message %d has seq %d: seqs must run 1, 2, 3 ... without gaps", i, m.Seq)
		}
		bySeq[m.Seq] = m.ID
		key := m.SenderID + "/" + m.ClientMsgID
		byCID[key] = append(byCID[key], m)
	}
	duplicates := 0
	for key, ms := range byCID {
		if len(ms) > 1 {
			duplicates += len(ms) - 1
			tb.Errorf("history: %s stored %d times", key, len(ms))
		}
	}
	var acked, found, lost, misnumbered int
	for _, s := range tr.senders {
		s.mu.Lock()
		for cid, seq := range s.receipt {
			acked++
			ms := byCID[s.u.ID+"/"+cid]
			switch {
			case len(ms) == 0:
				lost++
				tb.Errorf("%s: acknowledged as seq %d but not in the history", cid, seq)
			case ms[0].Seq != seq:
				misnumbered++
				tb.Errorf("%s: acknowledged as seq %d, stored as seq %d", cid, seq, ms[0].Seq)
				found++
			default:
				found++
			}
		}
		if s.pending != "" {
			tb.Logf("%s: %s was never acknowledged (the run ended first)", s.u.Name, s.pending)
		}
		s.mu.Unlock()
	}
	tb.Logf("database: acknowledged %d, found %d, duplicates: %d, lost: %d, stored in all %d", acked, found, duplicates, lost, len(history))
	if acked == 0 {
		tb.Fatal("no message was acknowledged")
	}
	for _, s := range tr.senders {
		tb.Logf("sender %s: acknowledged %d, reconnections %d, failures %v", s.u.Name, s.acked.Load(), s.reconnects.Load(), s.errs.String())
	}
	for _, r := range tr.receivers {
		r.mu.Lock()
		missing, wrong := 0, 0
		for seq, id := range bySeq {
			got, ok := r.got[seq]
			switch {
			case !ok:
				missing++
			case got != id:
				wrong++
			}
		}
		extra := len(r.got) - (len(bySeq) - missing)
		r.mu.Unlock()
		tb.Logf("receiver %s: has %d of %d (live %d, from history %d), live duplicates: %d, missing %d, reconnections %d, failures %v",
			r.u.Name, len(bySeq)-missing, len(bySeq), r.live.Load(), r.filled.Load(), r.liveDups.Load(), missing, r.reconnects.Load(), r.errs.String())
		if missing > 0 || wrong > 0 || extra > 0 || r.liveDups.Load() > 0 {
			tb.Errorf("receiver %s: missing %d, different %d, unknown %d, live duplicates %d", r.u.Name, missing, wrong, extra, r.liveDups.Load())
		}
	}
}
