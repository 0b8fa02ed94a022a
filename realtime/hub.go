package realtime

import (
	"context"
	"encoding/json"
	"runtime"
	"strconv"
	"sync"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/stomp"
)

// numShards is the number of independently locked parts of each hub map and of the
// connection registry.
const numShards = 64

// hub delivers broker events to the local subscriptions. Its maps are sharded by key, and
// each key's subscriptions are a copy-on-write slice: delivery takes a shard lock only to
// load the slice, then queues to every subscriber with no hub lock held, so subscribing
// never waits for a fan-out and a fan-out never waits for a subscriber.
//
// Events are handed from the broker to a few workers (one per CPU) through bounded queues,
// chosen by room (or by first recipient), so that the events of one room keep their order.
// A worker takes every event already waiting in its queue (up to maxBatch) and starts the
// writers of the sessions it queued to only after the last one: when events come faster
// than they are fanned out, each connection gets them in one write instead of one each.
type hub struct {
	srv     *Server
	rooms   [numShards]subShard // room id -> subscriptions to /topic/rooms.{id}
	users   [numShards]subShard // user id -> subscriptions to /user/queue/events
	workers []chan plop.Event
}

type subShard struct {
	mu sync.Mutex
	m  map[string][]*subscription
}

func (h *hub) init(s *Server) {
	h.srv = s
	for i := range numShards {
		h.rooms[i].m = make(map[string][]*subscription)
		h.users[i].m = make(map[string][]*subscription)
	}
	n := max(1, runtime.GOMAXPROCS(0))
	h.workers = make([]chan plop.Event, n)
	for i := range h.workers {
		h.workers[i] = make(chan plop.Event, max(1, s.opt.HubQueue/n))
	}
}

// maxBatch bounds the events a hub worker fans out before it starts the writers.
const maxBatch = 32

// start runs the workers until ctx is done.
func (h *hub) start(ctx context.Context, wg *sync.WaitGroup) {
	for _, ch := range h.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var later []*session // sessions whose writer is to be started
			for {
				select {
				case e := <-ch:
					h.fanOut(e, &later)
				case <-ctx.Done():
					return
				}
			more:
				for range maxBatch - 1 {
					select {
					case e := <-ch:
						h.fanOut(e, &later)
					default:
						break more
					}
				}
				startWriters(&later)
			}
		}()
	}
}

// deliver is the broker callback: it never blocks. An event that finds its worker's queue
// full is dropped and counted; clients fill such gaps from history.
func (h *hub) deliver(e plop.Event) {
	key := e.RoomID
	if key == "" && len(e.UserIDs) > 0 {
		key = e.UserIDs[0]
	}
	select {
	case h.workers[shardOf(key)%uint32(len(h.workers))] <- e:
	default:
		h.srv.met.eventsDropped.Inc()
		h.srv.log.Warn("hub queue full: event dropped", "type", e.Type, "room_id", e.RoomID)
	}
}

// fanOut queues e to the room's subscribers and to the personal queues of its users, leaving
// the writers to start to the caller (see session.enqueueTo).
func (h *hub) fanOut(e plop.Event, later *[]*session) {
	if e.RoomID != "" {
		if subs := h.rooms[shardOf(e.RoomID)].get(e.RoomID); len(subs) > 0 {
			ev := encodeEvent(roomTopicPrefix+e.RoomID, &e)
			for _, sub := range subs {
				if sub.sess.id != e.ExceptConn {
					sub.sess.enqueueMessage(ev, sub, later)
				}
			}
		}
	}
	var ev *wireEvent
	for _, uid := range e.UserIDs {
		for _, sub := range h.users[shardOf(uid)].get(uid) {
			if sub.sess.id == e.ExceptConn {
				continue
			}
			if ev == nil {
				ev = encodeEvent(userQueue, &e)
			}
			sub.sess.enqueueMessage(ev, sub, later)
		}
	}
	if e.Type == plop.EventMemberRemoved && e.RoomID != "" {
		h.dropRemovedMember(e)
	}
}

// dropRemovedMember ends the room-topic subscriptions of a user who left or was removed
// from the room, so that they hear nothing more of it.
func (h *hub) dropRemovedMember(e plop.Event) {
	var body struct {
		UserID string `json:"user_id"`
	}
	if err := json.Unmarshal(e.Body, &body); err != nil || body.UserID == "" {
		h.srv.log.Warn("member.removed event without user_id", "room_id", e.RoomID, "err", err)
		return
	}
	for _, sub := range h.rooms[shardOf(e.RoomID)].get(e.RoomID) {
		if sub.sess.user == body.UserID {
			sub.sess.drop(sub)
		}
	}
}

func (h *hub) subscribe(sub *subscription) {
	h.shard(sub).add(sub.key, sub)
}

// unsubscribe removes sub and drops the frames still queued for it; removing it twice is
// harmless.
func (h *hub) unsubscribe(sub *subscription) {
	sub.active.Store(false)
	h.shard(sub).remove(sub.key, sub)
}

// detach removes sub but lets the frames already queued for it go out (the event that
// ended it, say).
func (h *hub) detach(sub *subscription) {
	h.shard(sub).remove(sub.key, sub)
}

func (h *hub) shard(sub *subscription) *subShard {
	if sub.kind == subRoom {
		return &h.rooms[shardOf(sub.key)]
	}
	return &h.users[shardOf(sub.key)]
}

// get returns the subscriptions of key; the slice is never modified afterwards.
func (sh *subShard) get(key string) []*subscription {
	sh.mu.Lock()
	s := sh.m[key]
	sh.mu.Unlock()
	return s
}

func (sh *subShard) add(key string, sub *subscription) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := sh.m[key]
	next := make([]*subscription, len(old), len(old)+1)
	copy(next, old)
	sh.m[key] = append(next, sub)
}

func (sh *subShard) remove(key string, sub *subscription) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := sh.m[key]
	i := -1
	for j, s := range old {
		if s == sub {
			i = j
			break
		}
	}
	if i < 0 {
		return
	}
	if len(old) == 1 {
		delete(sh.m, key)
		return
	}
	next := make([]*subscription, 0, len(old)-1)
	next = append(next, old[:i]...)
	sh.m[key] = append(next, old[i+1:]...)
}

// wireEvent is an event encoded once for one destination: the tail of its MESSAGE frames,
// from the destination header to the NUL, shared by every subscriber.
type wireEvent struct {
	tail []byte
}

// encodeEvent encodes the headers and body every MESSAGE of e to destination shares.
// Header values here are destinations, ids and numbers, which read the same escaped by
// any STOMP version's rules, so one encoding serves 1.0, 1.1 and 1.2 sessions.
func encodeEvent(destination string, e *plop.Event) *wireEvent {
	h := make([]stomp.Header, 0, 5)
	h = append(h,
		stomp.Header{Key: stomp.HdrDestination, Value: destination},
		stomp.Header{Key: stomp.HdrContentType, Value: "application/json"},
		stomp.Header{Key: stomp.HdrContentLength, Value: strconv.Itoa(len(e.Body))})
	if e.RoomID != "" {
		h = append(h, stomp.Header{Key: hdrRoomID, Value: e.RoomID})
	}
	if e.Seq != 0 {
		h = append(h, stomp.Header{Key: hdrSeq, Value: strconv.FormatInt(e.Seq, 10)})
	}
	f := stomp.Frame{Command: stomp.CmdMessage, Headers: h, Body: e.Body}
	const cmd = stomp.CmdMessage + "\n"
	b := stomp.AppendFrame(make([]byte, 0, 160+len(destination)+len(e.Body)), &f, stomp.V12)
	return &wireEvent{tail: b[len(cmd):]}
}

// shardOf returns the shard of key: FNV-1a, inline so that it allocates nothing.
func shardOf(key string) uint32 {
	const (
		offset32 = 2166136261
		prime32  = 16777619
	)
	h := uint32(offset32)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= prime32
	}
	return h % numShards
}
