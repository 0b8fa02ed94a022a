package realtime

import (
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/stomp"
)

// Destinations a client may subscribe to.
const (
	roomTopicPrefix = "/topic/rooms."      // + room id: the room's events, members only
	userQueue       = "/user/queue/events" // everything for the connected user
)

// Subscription kinds.
const (
	subRoom uint8 = iota + 1
	subUser
)

// subscription is one SUBSCRIBE of a session. It is immutable once made, but for active.
type subscription struct {
	sess   *session
	id     string
	hdr    []byte // "subscription:<id>\n", encoded for the session's protocol version
	kind   uint8
	key    string      // room id or user id: its key in the hub
	active atomic.Bool // false once unsubscribed: queued MESSAGE frames for it are dropped
}

func (ss *session) subscribe(f *stomp.Frame, receipt string) {
	dest, _ := f.Get(stomp.HdrDestination)
	if dest == "" {
		ss.fail(plop.Errorf(plop.EInvalid, "SUBSCRIBE needs a destination header"), receipt)
		return
	}
	id, _ := f.Get(stomp.HdrID)
	if id == "" {
		if ss.version != stomp.V10 {
			ss.fail(plop.Errorf(plop.EInvalid, "SUBSCRIBE needs an id header"), receipt)
			return
		}
		id = dest // STOMP 1.0 makes the id optional
	}
	if !utf8.ValidString(id) {
		ss.fail(plop.Errorf(plop.EInvalid, "the subscription id is not valid UTF-8"), receipt)
		return
	}
	switch ack, _ := f.Get(stomp.HdrAck); ack {
	case "", "auto", "client", "client-individual":
	default:
		ss.fail(plop.Errorf(plop.EInvalid, "ack must be auto, client or client-individual"), receipt)
		return
	}
	ss.mu.Lock()
	dup := ss.findSub(id) >= 0
	n := len(ss.subs)
	ss.mu.Unlock()
	if dup {
		ss.fail(plop.Errorf(plop.EInvalid, "subscription id %q is already in use", id), receipt)
		return
	}
	if n >= ss.srv.opt.MaxSubscriptions {
		ss.fail(plop.Errorf(plop.EInvalid, "at most %d subscriptions per connection", ss.srv.opt.MaxSubscriptions), receipt)
		return
	}

	// The id and the room id are copied out of the frame, which they would otherwise keep
	// alive for as long as the subscription lasts.
	id = strings.Clone(id)
	sub := &subscription{sess: ss, id: id, hdr: subscriptionHeader(id, ss.version)}
	switch {
	case strings.HasPrefix(dest, roomTopicPrefix):
		sub.kind, sub.key = subRoom, strings.Clone(dest[len(roomTopicPrefix):])
		if err := ss.srv.app.AuthorizeRoom(ss.srv.ctx, ss.user, sub.key); err != nil {
			ss.fail(err, receipt)
			return
		}
	case dest == userQueue:
		sub.kind, sub.key = subUser, ss.user
	default:
		ss.fail(plop.Errorf(plop.ENotFound, "unknown destination %q: subscribe to %s{roomId} or %s", dest, roomTopicPrefix, userQueue), receipt)
		return
	}
	sub.active.Store(true)

	ss.mu.Lock()
	if ss.subs == nil {
		ss.subs = make([]*subscription, 0, 2) // a user queue and a room, as a rule
	}
	ss.subs = append(ss.subs, sub)
	ss.srv.hub.subscribe(sub)
	ss.mu.Unlock()
	ss.receipt(receipt)
}

func (ss *session) unsubscribe(f *stomp.Frame, receipt string) {
	id, _ := f.Get(stomp.HdrID)
	if id == "" && ss.version == stomp.V10 {
		id, _ = f.Get(stomp.HdrDestination)
	}
	if id == "" {
		ss.fail(plop.Errorf(plop.EInvalid, "UNSUBSCRIBE needs an id header"), receipt)
		return
	}
	// An unknown id is not an error: the server may have ended that subscription itself
	// (after the user left the room) while the client was unsubscribing.
	ss.mu.Lock()
	if i := ss.findSub(id); i >= 0 {
		sub := ss.subs[i]
		ss.removeSubLocked(i)
		ss.srv.hub.unsubscribe(sub)
	}
	ss.mu.Unlock()
	ss.receipt(receipt)
}

// drop ends sub on the server's initiative (its user left the room); what was queued for
// it, such as the member.removed event itself, is still delivered.
func (ss *session) drop(sub *subscription) {
	ss.mu.Lock()
	if i := ss.findSub(sub.id); i >= 0 && ss.subs[i] == sub {
		ss.removeSubLocked(i)
		ss.srv.hub.detach(sub)
	}
	ss.mu.Unlock()
}

// findSub returns the index in ss.subs of the subscription id, -1 when there is none. The
// caller holds ss.mu.
func (ss *session) findSub(id string) int {
	for i, sub := range ss.subs {
		if sub.id == id {
			return i
		}
	}
	return -1
}

// removeSubLocked removes ss.subs[i]; their order means nothing. The caller holds ss.mu.
func (ss *session) removeSubLocked(i int) {
	last := len(ss.subs) - 1
	ss.subs[i] = ss.subs[last]
	ss.subs[last] = nil
	ss.subs = ss.subs[:last]
}

// subscriptionHeader encodes the subscription header line of MESSAGE frames for id, escaped
// as version says, once per subscription.
func subscriptionHeader(id, version string) []byte {
	const prefix = stomp.CmdMessage + "\n"
	f := stomp.Frame{Command: stomp.CmdMessage, Headers: []stomp.Header{{Key: stomp.HdrSubscription, Value: id}}}
	b := stomp.AppendFrame(make([]byte, 0, len(prefix)+len(stomp.HdrSubscription)+len(id)+8), &f, version)
	// b is "MESSAGE\nsubscription:<id>\n\n\x00".
	return b[len(prefix) : len(b)-2 : len(b)-2]
}
