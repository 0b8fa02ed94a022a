package inmem

import (
	"context"
	"sync"
	"time"

	"github.com/plop-chat/plop"
)

var _ plop.PresenceStore = (*Presence)(nil)

// Presence is the in-process plop.PresenceStore: for each user, the set of their live
// connection ids on this node and the time their last connection closed.
//
// Users are spread over numShards maps, each with its own mutex, so that connections of
// different users rarely contend. A user who has been seen since the process started keeps a
// small entry (their last_seen) until the process exits; that is one entry per user, not per
// connection.
type Presence struct {
	shards [numShards]presenceShard
}

type presenceShard struct {
	mu    sync.Mutex
	users map[string]*userPresence
}

type userPresence struct {
	conns    map[string]struct{}
	lastSeen time.Time // zero until the first disconnect
}

// NewPresence returns an empty Presence.
func NewPresence() *Presence {
	p := &Presence{}
	for i := range p.shards {
		p.shards[i].users = make(map[string]*userPresence)
	}
	return p
}

// Connect records connID as a live connection of userID and reports whether the user had no
// live connection before. Connecting the same connID twice counts it once.
func (p *Presence) Connect(ctx context.Context, userID, connID string, now time.Time) (bool, error) {
	sh := &p.shards[shardOf(userID)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	u := sh.users[userID]
	if u == nil {
		u = &userPresence{}
		sh.users[userID] = u
	}
	if u.conns == nil {
		u.conns = make(map[string]struct{}, 1)
	}
	if _, ok := u.conns[connID]; ok {
		return false, nil
	}
	u.conns[connID] = struct{}{}
	return len(u.conns) == 1, nil
}

// Disconnect removes connID and reports whether it was the user's last live connection; then
// the user's last_seen becomes now. Removing an unknown connection changes nothing.
func (p *Presence) Disconnect(ctx context.Context, userID, connID string, now time.Time) (bool, error) {
	sh := &p.shards[shardOf(userID)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	u := sh.users[userID]
	if u == nil {
		return false, nil
	}
	if _, ok := u.conns[connID]; !ok {
		return false, nil
	}
	delete(u.conns, connID)
	if len(u.conns) > 0 {
		return false, nil
	}
	u.conns = nil // let the emptied map go
	u.lastSeen = plop.UTC(now)
	return true, nil
}

// Presence returns one entry per id, in the order of ids. LastSeen is the time the user's
// last connection closed (kept while they are online again), nil when this node has not seen
// them disconnect.
func (p *Presence) Presence(ctx context.Context, ids []string) ([]plop.Presence, error) {
	out := make([]plop.Presence, len(ids))
	for i, id := range ids {
		out[i] = p.one(id)
	}
	return out, nil
}

func (p *Presence) one(id string) plop.Presence {
	sh := &p.shards[shardOf(id)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	res := plop.Presence{UserID: id}
	u := sh.users[id]
	if u == nil {
		return res
	}
	res.Online = len(u.conns) > 0
	if !u.lastSeen.IsZero() {
		t := u.lastSeen
		res.LastSeen = &t
	}
	return res
}
