package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"time"

	"github.com/plop-chat/plop"
)

var _ plop.PresenceStore = (*Presence)(nil)

// Defaults of the Presence.
const (
	// DefaultPresenceTTL is how long a connection counts after its node's last heartbeat.
	DefaultPresenceTTL = 30 * time.Second
	// DefaultLastSeenTTL is how long a user's last_seen is kept after they leave.
	DefaultLastSeenTTL = 30 * 24 * time.Hour
	presenceShards     = 64
)

// Presence is the plop.PresenceStore of a cluster. A user is online while any of their
// connections, on any node, is live; a connection is live while the node that holds it
// keeps sending heartbeats. See the package documentation for the keys and the scripts.
//
// Each Presence also remembers the connections it recorded, so that its heartbeat goroutine
// can stamp them every TTL/3. NewPresence starts the heartbeat; Close stops it, after which
// the connections of this Presence expire within the TTL, exactly as if the node had died.
type Presence struct {
	c        *Client
	instance string // prefix of this node's members: nodeID.random/
	ttl      time.Duration
	keep     time.Duration
	every    time.Duration
	logger   *slog.Logger

	seed   maphash.Seed
	shards [presenceShards]presenceShard

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// presenceShard holds the local connections of some users. Its mutex is held across the
// Redis calls that change those users, so that a heartbeat never stamps a connection that a
// Disconnect is removing.
type presenceShard struct {
	mu    sync.Mutex
	users map[string]map[string]struct{} // user → members
}

// PresenceOption configures a Presence.
type PresenceOption func(*Presence)

// PresenceTTL sets how long a connection stays live after its node's last heartbeat (default
// 30 s); heartbeats are sent every third of it. Every node of a cluster must use the same.
func PresenceTTL(d time.Duration) PresenceOption {
	return func(p *Presence) {
		if d > 0 {
			p.ttl = d
		}
	}
}

// PresenceLastSeenTTL sets how long a user's last_seen is kept after they leave (default 30
// days); afterwards their last_seen is unknown.
func PresenceLastSeenTTL(d time.Duration) PresenceOption {
	return func(p *Presence) {
		if d > 0 {
			p.keep = d
		}
	}
}

// NewPresence returns a Presence for the node nodeID on c and starts its heartbeat. nodeID
// names the node in the keys it writes; a random suffix keeps a restarted node apart from
// its former self.
func NewPresence(c *Client, nodeID string, opts ...PresenceOption) *Presence {
	if nodeID == "" {
		nodeID = "node"
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	p := &Presence{
		c:        c,
		instance: nodeID + "." + hex.EncodeToString(rnd[:]) + "/",
		ttl:      DefaultPresenceTTL,
		keep:     DefaultLastSeenTTL,
		seed:     maphash.MakeSeed(),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	for _, o := range opts {
		o(p)
	}
	p.keep = max(p.keep, p.ttl)
	p.every = max(p.ttl/3, time.Millisecond)
	p.logger = c.logger.With("node", nodeID)
	for i := range p.shards {
		p.shards[i].users = make(map[string]map[string]struct{})
	}
	go p.heartbeat()
	return p
}

// Close stops the heartbeat and waits for it. The connections recorded here expire within
// the TTL. Closing twice is harmless.
func (p *Presence) Close() error {
	p.closeOnce.Do(func() { close(p.stop) })
	<-p.done
	return nil
}

// keys returns the connection set and the last_seen key of user. The braces make both fall
// in one hash slot, should the keys ever be spread over a Redis Cluster.
func (p *Presence) keys(user string) []string {
	base := p.c.key("presence:{", user, "}:")
	return []string{base + "conns", base + "seen"}
}

// args returns the arguments common to all presence scripts followed by more.
func (p *Presence) args(more ...any) []any {
	return append([]any{p.ttl.Milliseconds(), p.keep.Milliseconds()}, more...)
}

func (p *Presence) shard(user string) *presenceShard {
	return &p.shards[maphash.String(p.seed, user)%presenceShards]
}

// Connect records connID as a live connection of userID on this node and reports whether
// the user had no live connection on any node before. Connecting the same connID twice
// counts it once. now is not needed: liveness follows the Redis server's clock. An
// unreachable Redis is an error wrapping plop.ErrUnavailable.
func (p *Presence) Connect(ctx context.Context, userID, connID string, now time.Time) (bool, error) {
	member := p.instance + connID
	sh := p.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	came, err := connectScript.Run(ctx, p.c.rdb, p.keys(userID), p.args(member)...).Int()
	if err != nil {
		return false, fail("presence connect", err)
	}
	conns := sh.users[userID]
	if conns == nil {
		conns = make(map[string]struct{}, 1)
		sh.users[userID] = conns
	}
	conns[member] = struct{}{}
	return came == 1, nil
}

// Disconnect removes connID and reports whether it was the user's last live connection on
// any node; then the user's last_seen becomes now. Removing an unknown connection changes
// nothing. The connection is forgotten here even when Redis cannot be reached, so that it
// expires there within the TTL.
func (p *Presence) Disconnect(ctx context.Context, userID, connID string, now time.Time) (bool, error) {
	member := p.instance + connID
	sh := p.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if conns := sh.users[userID]; conns != nil {
		delete(conns, member)
		if len(conns) == 0 {
			delete(sh.users, userID)
		}
	}
	went, err := disconnectScript.Run(ctx, p.c.rdb, p.keys(userID),
		p.args(member, plop.UTC(now).UnixMilli())...).Int()
	if err != nil {
		return false, fail("presence disconnect", err)
	}
	return went == 1, nil
}

// Presence returns one entry per id, in the order of ids, in one round trip. LastSeen is the
// time the user's last connection closed, or the last heartbeat of a node that died holding
// it; nil when unknown.
func (p *Presence) Presence(ctx context.Context, ids []string) ([]plop.Presence, error) {
	out := make([]plop.Presence, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	calls := make([]scriptCall, len(ids))
	for i, id := range ids {
		calls[i] = scriptCall{keys: p.keys(id), args: p.args()}
	}
	cmds, err := p.c.runPipelined(ctx, readScript, calls)
	if err != nil {
		return nil, fail("presence", err)
	}
	for i, cmd := range cmds {
		v, err := cmd.Int64Slice()
		if err != nil || len(v) != 2 {
			return nil, fmt.Errorf("redis presence of %s: unexpected answer %v: %w", ids[i], cmd.Val(), err)
		}
		out[i] = plop.Presence{UserID: ids[i], Online: v[0] == 1}
		if v[1] >= 0 {
			t := time.UnixMilli(v[1]).UTC()
			out[i].LastSeen = &t
		}
	}
	return out, nil
}

// heartbeat stamps this node's connections every p.every until Close.
func (p *Presence) heartbeat() {
	defer close(p.done)
	t := time.NewTicker(p.every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		err := p.refresh()
		switch {
		case err != nil && !failing:
			p.logger.Warn("presence heartbeat failed; connections here will expire unless it recovers", "err", err)
		case err == nil && failing:
			p.logger.Info("presence heartbeat recovered")
		}
		failing = err != nil
	}
}

// refresh stamps every local connection, one pipeline per shard.
func (p *Presence) refresh() error {
	var first error
	for i := range p.shards {
		if err := p.refreshShard(&p.shards[i]); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (p *Presence) refreshShard(sh *presenceShard) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.users) == 0 {
		return nil
	}
	calls := make([]scriptCall, 0, len(sh.users))
	for user, conns := range sh.users {
		args := p.args()
		for m := range conns {
			args = append(args, m)
		}
		calls = append(calls, scriptCall{keys: p.keys(user), args: args})
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.every)
	defer cancel()
	cmds, err := p.c.runPipelined(ctx, refreshScript, calls)
	if err != nil {
		return fail("presence heartbeat", err)
	}
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return fail("presence heartbeat", err)
		}
	}
	return nil
}

// local returns the number of connections this Presence holds, for tests.
func (p *Presence) local() int {
	n := 0
	for i := range p.shards {
		sh := &p.shards[i]
		sh.mu.Lock()
		for _, conns := range sh.users {
			n += len(conns)
		}
		sh.mu.Unlock()
	}
	return n
}
