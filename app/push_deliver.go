package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/plop-chat/plop"
)

// foldJobs claims a batch of queued jobs and folds each message into the pending
// notifications of the members to notify: those pushCandidates allows who are not online
// anywhere. It returns how many jobs it claimed and when the notifications it started fall
// due (zero when it started none).
//
// When the outbox can list a room's members (pushRoster), presence is asked about every
// member of the batch's rooms first, and a message whose room has nobody offline but perhaps
// its sender is folded without loading the members: nobody is to be notified of it, and only
// the sender's own notification about the room is cleared, as the full path would do.
func (w *PushWorker) foldJobs(ctx context.Context) (claimed int, due time.Time) {
	now := w.now()
	claim := w.newClaim()
	jobs, err := w.out.ClaimPushJobs(ctx, claim, now, w.cfg.Lease, w.cfg.Batch)
	if err != nil {
		if ctx.Err() == nil {
			w.log.WarnContext(ctx, "push: claim jobs", "err", err)
		}
		return 0, time.Time{}
	}
	if len(jobs) == 0 {
		return 0, time.Time{}
	}
	online := map[string]bool{} // presence known so far, by user id
	heard := w.heard.take(jobs)
	offline := w.offlineMembers(ctx, jobs, heard, online)
	folds := make([]plop.PushFold, 0, len(jobs))
	kept := make([]plop.PushJob, 0, len(jobs))   // the jobs of folds
	candidates := make([][]string, 0, len(jobs)) // the candidates of folds; nil for quiet folds
	var ids []string                             // candidates whose presence is still unknown
	seen := map[string]bool{}
	for _, j := range jobs {
		if f, ok, err := w.quietFold(ctx, j, heard, offline, online); err != nil {
			w.retryJob(ctx, claim, j, err)
			continue
		} else if ok {
			folds = append(folds, f)
			kept = append(kept, j)
			candidates = append(candidates, nil)
			continue
		}
		pm, err := w.out.PushMessage(ctx, j.RoomID, j.Seq)
		switch {
		case plop.ErrorCode(err) == plop.ENotFound:
			pm = plop.PushMessage{RoomID: j.RoomID, Seq: j.Seq, Deleted: true} // nothing to notify
		case err != nil:
			w.retryJob(ctx, claim, j, err)
			continue
		}
		c := pushCandidates(pm)
		for _, id := range c {
			if _, known := online[id]; !known && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		folds = append(folds, plop.PushFold{JobID: j.ID, RoomID: j.RoomID, Seq: j.Seq, SenderID: pm.SenderID,
			Title: pushTitle(pm), Body: pushPreview(pm)})
		kept = append(kept, j)
		candidates = append(candidates, c)
	}
	if err := w.lookUp(ctx, ids, online); err != nil {
		// Whom to spare cannot be known: give those jobs back to be tried later.
		n := 0
		for i := range folds {
			if candidates[i] != nil {
				w.retryJob(ctx, claim, kept[i], err)
				continue
			}
			folds[n], kept[n], candidates[n] = folds[i], kept[i], nil
			n++
		}
		folds, kept, candidates = folds[:n], kept[:n], candidates[:n]
	}
	for i := range folds {
		for _, id := range candidates[i] {
			if !online[id] {
				folds[i].UserIDs = append(folds[i].UserIDs, id)
			}
		}
		if len(folds[i].UserIDs) > 0 {
			due = now.Add(w.cfg.Delay)
		}
	}
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := w.out.FoldPushJobs(bctx, claim, folds, now, w.cfg.Delay, w.cfg.Cooldown); err != nil {
		// The jobs stay queued; they are claimed again when the lease runs out.
		level := slog.LevelWarn
		if plop.ErrorCode(err) == plop.EConflict {
			level = slog.LevelInfo // another node took over after this one was slow
		}
		w.log.Log(ctx, level, "push: fold jobs", "jobs", len(folds), "err", err)
		return len(jobs), time.Time{}
	}
	return len(jobs), due
}

// offlineMembers asks presence about the members of the rooms of jobs: those a message
// event told of (heard), and for the other jobs those the outbox lists (pushRoster). It
// records what it learnt in online, and returns for each room it listed the members who are
// offline (an empty, non-nil slice when none is). Rooms it could not check are absent: their
// jobs take the full path, unless heard says enough.
func (w *PushWorker) offlineMembers(ctx context.Context, jobs []plop.PushJob, heard map[int64]sentTo, online map[string]bool) map[string][]string {
	var ids []string
	for _, s := range heard {
		ids = append(ids, s.members...)
	}
	roster, _ := w.out.(pushRoster)
	members := map[string][]string{}
	for _, j := range jobs {
		if _, done := members[j.RoomID]; done || roster == nil {
			continue
		}
		if _, ok := heard[j.ID]; ok {
			continue
		}
		m, err := roster.MemberIDs(ctx, j.RoomID)
		if err != nil {
			w.log.DebugContext(ctx, "push: list members", "room_id", j.RoomID, "err", err)
			continue
		}
		members[j.RoomID] = m
		ids = append(ids, m...)
	}
	if len(ids) == 0 {
		return nil
	}
	if err := w.lookUp(ctx, dedupe(ids), online); err != nil {
		w.log.DebugContext(ctx, "push: presence of room members", "err", err)
		return nil
	}
	out := make(map[string][]string, len(members))
	for room, m := range members {
		off := []string{}
		for _, id := range m {
			if !online[id] {
				off = append(off, id)
			}
		}
		out[room] = off
	}
	return out
}

// quietFold returns the fold of job j when nobody is to be notified of its message because
// every member of its room but perhaps the sender is online: the members the message's event
// was sent to (heard), or else those of the room (offline, from offlineMembers, says who is
// not). ok is false when that is not known to be so.
func (w *PushWorker) quietFold(ctx context.Context, j plop.PushJob, heard map[int64]sentTo, offline map[string][]string, online map[string]bool) (f plop.PushFold, ok bool, err error) {
	f = plop.PushFold{JobID: j.ID, RoomID: j.RoomID, Seq: j.Seq}
	if s, ok := heard[j.ID]; ok {
		for _, id := range s.members {
			if id != s.sender && !online[id] {
				return f, false, nil
			}
		}
		f.SenderID = s.sender
		return f, true, nil
	}
	off, checked := offline[j.RoomID]
	if !checked || len(off) > 1 {
		return f, false, nil
	}
	m, err := w.out.(pushRoster).Message(ctx, j.RoomID, j.Seq)
	switch {
	case plop.ErrorCode(err) == plop.ENotFound:
		return f, true, nil // as the full path: no sender to clear, nobody to notify
	case err != nil:
		return f, false, err
	case len(off) == 1 && off[0] != m.SenderID:
		return f, false, nil
	}
	f.SenderID = m.SenderID
	return f, true, nil
}

// retryJob gives job back to be tried again after a backoff, or drops it after MaxAttempts.
func (w *PushWorker) retryJob(ctx context.Context, claim string, j plop.PushJob, cause error) {
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	if j.Attempts+1 >= w.cfg.MaxAttempts {
		w.log.WarnContext(ctx, "push: dropping a message's notifications after repeated failures",
			"room_id", j.RoomID, "seq", j.Seq, "attempts", j.Attempts+1, "err", cause)
		if err := w.out.FoldPushJobs(bctx, claim, []plop.PushFold{{JobID: j.ID, RoomID: j.RoomID, Seq: j.Seq}}, w.now(), w.cfg.Delay, w.cfg.Cooldown); err != nil {
			w.log.WarnContext(ctx, "push: drop job", "room_id", j.RoomID, "seq", j.Seq, "err", err)
		}
		return
	}
	w.log.WarnContext(ctx, "push: will retry a message's notifications", "room_id", j.RoomID, "seq", j.Seq, "err", cause)
	if err := w.out.RetryPushJob(bctx, claim, j.ID, w.now().Add(w.backoff(j.Attempts))); err != nil {
		w.log.WarnContext(ctx, "push: give job back", "room_id", j.RoomID, "seq", j.Seq, "err", err)
	}
}

// online returns which of ids have a live connection anywhere in the cluster.
func (w *PushWorker) online(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	return out, w.lookUp(ctx, ids, out)
}

// lookUp records in online which of ids have a live connection anywhere in the cluster.
func (w *PushWorker) lookUp(ctx context.Context, ids []string, online map[string]bool) error {
	for start := 0; start < len(ids); start += plop.MaxPageSize {
		chunk := ids[start:min(start+plop.MaxPageSize, len(ids))]
		ps, err := w.presence.Presence(ctx, chunk)
		if err != nil {
			return err
		}
		for _, p := range ps {
			online[p.UserID] = p.Online
		}
	}
	return nil
}

// deliverDue claims the notifications that are due and delivers them, Workers at a time. It
// returns how many it claimed.
func (w *PushWorker) deliverDue(ctx context.Context) int {
	claim := w.newClaim()
	ps, err := w.out.ClaimPushes(ctx, claim, w.now(), w.cfg.Lease, w.cfg.Batch)
	if err != nil {
		if ctx.Err() == nil {
			w.log.WarnContext(ctx, "push: claim notifications", "err", err)
		}
		return 0
	}
	sem := make(chan struct{}, w.cfg.Workers)
	var wg sync.WaitGroup
	for _, p := range ps {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			w.deliver(ctx, claim, p)
		})
	}
	wg.Wait()
	return len(ps)
}

// deliver sends p to every device of its user, unless the user came online meanwhile. A
// device the push service no longer knows is deleted; a push service that is unavailable
// makes the notification come back after a backoff, up to MaxAttempts; any other refusal is
// logged and dropped.
func (w *PushWorker) deliver(ctx context.Context, claim string, p plop.PendingPush) {
	log := w.log.With("user_id", p.UserID, "room_id", p.RoomID)
	online, err := w.online(ctx, []string{p.UserID})
	var devices []plop.Device
	if err == nil && !online[p.UserID] {
		devices, err = w.devices.Devices(ctx, p.UserID)
	}
	if err != nil {
		w.retryPush(ctx, claim, p, log, err)
		return
	}
	n := pushNotification(p)
	sent, unavailable := 0, false
	for _, d := range devices {
		sctx, cancel := context.WithTimeout(ctx, w.cfg.SendTimeout)
		err := w.pusher.Push(sctx, d, n)
		cancel()
		switch {
		case err == nil:
			sent++
		case errors.Is(err, plop.ErrDeviceGone):
			log.InfoContext(ctx, "push: removing a device its push service no longer knows", "device_id", d.ID, "platform", d.Platform, "err", err)
			bctx, cancel := bookkeeping(ctx)
			if err := w.devices.DeleteDevice(bctx, d.UserID, d.ID); err != nil && plop.ErrorCode(err) != plop.ENotFound {
				log.WarnContext(ctx, "push: delete gone device", "device_id", d.ID, "err", err)
			}
			cancel()
		case errors.Is(err, plop.ErrUnavailable) || ctx.Err() != nil:
			unavailable = true
			log.WarnContext(ctx, "push: push service unavailable", "device_id", d.ID, "platform", d.Platform, "err", err)
		default:
			log.WarnContext(ctx, "push: notification refused; dropped for this device", "device_id", d.ID, "platform", d.Platform, "err", err)
		}
	}
	if ctx.Err() != nil {
		return // stopping: the claim runs out and the notification is sent again
	}
	if unavailable && p.Attempts+1 < w.cfg.MaxAttempts {
		w.retryPush(ctx, claim, p, log, errors.New("a push service was unavailable"))
		return
	}
	if unavailable {
		log.WarnContext(ctx, "push: giving up on a notification after repeated failures", "attempts", p.Attempts+1)
	}
	now := w.now()
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	next := now.Add(w.cfg.Delay)
	if sent > 0 {
		next = now.Add(w.cfg.Cooldown)
	}
	if err := w.out.FinishPush(bctx, claim, p, sent > 0, now, next); err != nil {
		log.WarnContext(ctx, "push: record delivery", "err", err)
	}
}

// retryPush gives p back to be sent after a backoff.
func (w *PushWorker) retryPush(ctx context.Context, claim string, p plop.PendingPush, log *slog.Logger, cause error) {
	if ctx.Err() != nil {
		return
	}
	log.InfoContext(ctx, "push: will retry a notification", "attempts", p.Attempts+1, "err", cause)
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := w.out.RetryPush(bctx, claim, p, w.now().Add(w.backoff(p.Attempts))); err != nil {
		log.WarnContext(ctx, "push: give notification back", "err", err)
	}
}

// dedupe returns ids without repetitions, in their first order.
func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// recentSends remembers, of the message.created events the worker heard, each message's
// sender and the members it was sent to, until its job is folded: with them a job needs no
// read of the store to find that nobody is to be notified. Bounded: the oldest are forgotten
// first, and a job whose message is forgotten (or was never heard, as after a restart) takes
// the path through the store.
type recentSends struct {
	mu   sync.Mutex
	m    map[sendKey]sentTo
	fifo []sendKey // insertion order, from head
	head int
	held int // member ids held in m
}

type sendKey struct {
	roomID string
	seq    int64
}

// sentTo is who sent a message and who it was sent to.
type sentTo struct {
	sender  string
	members []string
}

const (
	maxHeardMessages = 4096
	maxHeardMembers  = 1 << 17
)

// add records a message.created event; it never blocks for long (broker callback).
func (r *recentSends) add(e plop.Event) {
	if e.RoomID == "" || e.Seq == 0 || len(e.UserIDs) == 0 || len(e.UserIDs) > maxHeardMembers {
		return
	}
	var body struct {
		Message struct {
			SenderID string `json:"sender_id"`
		} `json:"message"`
	}
	if json.Unmarshal(e.Body, &body) != nil || body.Message.SenderID == "" {
		return
	}
	k := sendKey{e.RoomID, e.Seq}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[sendKey]sentTo{}
	}
	if old, ok := r.m[k]; ok {
		r.held -= len(old.members)
	} else {
		r.fifo = append(r.fifo, k)
	}
	r.m[k] = sentTo{sender: body.Message.SenderID, members: e.UserIDs}
	r.held += len(e.UserIDs)
	for len(r.m) > maxHeardMessages || r.held > maxHeardMembers || len(r.fifo)-r.head > 2*maxHeardMessages {
		old := r.fifo[r.head]
		r.fifo[r.head] = sendKey{}
		r.head++
		if s, ok := r.m[old]; ok {
			r.held -= len(s.members)
			delete(r.m, old)
		}
	}
	if r.head > len(r.fifo)/2 {
		r.fifo = append(r.fifo[:0], r.fifo[r.head:]...)
		r.head = 0
	}
}

// take returns, by job id, what was heard of the messages of jobs, and forgets it.
func (r *recentSends) take(jobs []plop.PushJob) map[int64]sentTo {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out map[int64]sentTo
	for _, j := range jobs {
		k := sendKey{j.RoomID, j.Seq}
		if s, ok := r.m[k]; ok {
			if out == nil {
				out = map[int64]sentTo{}
			}
			out[j.ID] = s
			r.held -= len(s.members)
			delete(r.m, k)
		}
	}
	return out
}
