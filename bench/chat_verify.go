package bench

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
)

// chatVerdict is what the end of a chat run found, comparing what the generator was told
// (RECEIPTs) and what it received (MESSAGE frames, history after reconnects) with the
// history every room has at the end.
type chatVerdict struct {
	persisted      int64 // messages in history
	acked          int64 // RECEIPTs received
	lost           int64 // acknowledged, yet not in history under its seq and client_msg_id
	doubledHistory int64 // a client_msg_id stored more than once in a room
	gaps           int64 // seqs missing below a room's last one
	unacked        int64 // stored, but the sender never got the RECEIPT
	missed         int64 // (member, message) pairs the member never had, live or filled
	memberMessages int64 // (member, message) pairs expected
}

// roomHistory is one room's history as the server has it at the end.
type roomHistory struct {
	seqs     []int64
	byClient map[string]int64 // client_msg_id -> seq
	doubled  int64
}

// verify reads every room's history and checks it against acked and against what each
// member received.
func (w *chatWorld) verify(ctx context.Context, acked [][]ackedMsg) (chatVerdict, error) {
	hist := make([]*roomHistory, len(w.rooms))
	var v chatVerdict
	err := parallel(ctx, w.cfg.Progress, "history", len(w.rooms), w.cfg.SeedConcurrency, func(ctx context.Context, k int) error {
		h, err := w.history(ctx, k)
		hist[k] = h
		return err
	})
	if err != nil {
		return v, err
	}
	for k, h := range hist {
		v.persisted += int64(len(h.seqs))
		v.doubledHistory += h.doubled
		for i, seq := range h.seqs {
			if seq != int64(i+1) {
				v.gaps += seq - int64(i+1)
				break // counted once per room: the holes below the first jump
			}
		}
		for _, m := range w.rooms[k].members {
			cu := w.users[m]
			cu.mu.Lock()
			rr := cu.recv[k]
			for _, seq := range h.seqs {
				v.memberMessages++
				if !rr.all.has(seq) {
					v.missed++
				}
			}
			cu.mu.Unlock()
		}
	}
	for _, part := range acked {
		for _, a := range part {
			v.acked++
			if seq, ok := hist[a.room].byClient[a.clientMsgID]; !ok || seq != a.seq {
				v.lost++
			}
		}
	}
	v.unacked = v.persisted - v.acked
	return v, nil
}

// history reads all of room k through one of its members.
func (w *chatWorld) history(ctx context.Context, k int) (*roomHistory, error) {
	r := w.rooms[k]
	api := client.New(w.nodes.first().url, client.WithHTTPClient(w.rest)).WithToken(w.users[r.members[0]].u.Token)
	h := &roomHistory{byClient: map[string]int64{}}
	msgs, err := messagesAfter(ctx, api, r.id, 0)
	if err != nil {
		return h, fmt.Errorf("history of room %s: %w", r.id, err)
	}
	for _, m := range msgs {
		h.seqs = append(h.seqs, m.Seq)
		if _, dup := h.byClient[m.ClientMsgID]; dup {
			h.doubled++
		} else {
			h.byClient[m.ClientMsgID] = m.Seq
		}
	}
	return h, nil
}

// messagesAfter returns every message of the room with a seq above after, ascending. The API
// pages forward from a seq (after > 0) but answers a request without one with the latest
// page, so the whole history (after == 0) is read backwards from the latest page.
func messagesAfter(ctx context.Context, api *client.Client, roomID string, after int64) ([]plop.Message, error) {
	var out []plop.Message
	if after > 0 {
		for {
			msgs, err := api.Messages(ctx, roomID, 0, after, plop.MaxPageSize)
			if err != nil {
				return out, err
			}
			out = append(out, msgs...)
			if len(msgs) < plop.MaxPageSize {
				return out, nil
			}
			after = msgs[len(msgs)-1].Seq
		}
	}
	var pages [][]plop.Message
	var before int64
	for {
		msgs, err := api.Messages(ctx, roomID, before, 0, plop.MaxPageSize)
		if err != nil {
			return out, err
		}
		pages = append(pages, msgs)
		if len(msgs) < plop.MaxPageSize || msgs[0].Seq <= 1 {
			break
		}
		before = msgs[0].Seq
	}
	for i := len(pages) - 1; i >= 0; i-- {
		out = append(out, pages[i]...)
	}
	return out, nil
}

// quiesce waits until no delivery has arrived for quiet, at most within.
func quiesce(ctx context.Context, counter *atomic.Int64, quiet, within int64) {
	deadline := now() + within
	last, lastChange := counter.Load(), now()
	for now() < deadline && ctx.Err() == nil {
		if err := sleepCtx(ctx, 50e6); err != nil {
			return
		}
		if c := counter.Load(); c != last {
			last, lastChange = c, now()
		} else if now()-lastChange >= quiet {
			return
		}
	}
}
