package scaleout

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
)

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
