package app

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
	"unique"

	"github.com/plop-chat/plop"
)

// The friends cache keeps, per user, the friends list as the store gave it (profiles and
// "since", already encoded as JSON), so that GET /friends costs a presence lookup and a copy
// of bytes instead of a query and an encoding. Presence is never cached: it is merged at
// every request.
//
// A change that alters a list (a friendship accepted or ended, a block, a profile change of
// a friend) drops the lists concerned on this node at once and on every other node through
// the broker, as an event no client receives (friendsCacheEvent). Events lost between nodes
// (a broker outage) are covered by a TTL. The cache serves only while StartFriendsCache's
// subscription is in place: a node that would not hear the other nodes does not cache.
//
// A list loaded from the store is kept only when no invalidation of its shard happened
// since the load began, so a load that raced a change cannot store the old answer.
const (
	friendsCacheShards = 16
	// friendsCacheEvent is the broker event that drops cached lists on every node. It has
	// neither room nor users, so the real-time hubs deliver it to nobody.
	friendsCacheEvent = "cache.friends"
	// friendsInvalidateMax is the most user ids one invalidation names; more drop every
	// list instead.
	friendsInvalidateMax = 1000
)

// friendsCache is a size-bounded LRU of friends lists, in shards.
type friendsCache struct {
	ttl    time.Duration
	seed   maphash.Seed
	on     atomic.Int32 // subscriptions in place; the cache serves while > 0
	shards [friendsCacheShards]friendsShard
}

type friendsShard struct {
	mu      sync.Mutex
	gen     uint64 // bumped by every invalidation touching the shard
	lists   map[string]*list.Element
	lru     list.List // of *friendsList, most recently used first
	size    int       // friend entries held (a list counts len+1)
	maxSize int
}

// friendsList is one user's cached list. It is not modified once cached.
type friendsList struct {
	userID  string
	friends []cachedFriend
	expires time.Time
}

func (l *friendsList) size() int { return len(l.friends) + 1 }

// cachedFriend is one entry of a list: the friend's public profile, interned so that the
// lists of many users share it, and the encoded "since".
type cachedFriend struct {
	profile unique.Handle[friendProfile]
	since   string // JSON string, quotes included
}

// friendProfile is a public user encoded as JSON.
type friendProfile struct {
	id   string
	json string
}

func newFriendsCache(size int, ttl time.Duration) *friendsCache {
	c := &friendsCache{ttl: ttl, seed: maphash.MakeSeed()}
	per := max(size/friendsCacheShards, 0)
	for i := range c.shards {
		c.shards[i].lists = make(map[string]*list.Element)
		c.shards[i].maxSize = per
	}
	return c
}

func (c *friendsCache) shard(userID string) *friendsShard {
	return &c.shards[maphash.String(c.seed, userID)%friendsCacheShards]
}

func (c *friendsCache) serving() bool { return c.on.Load() > 0 && c.shards[0].maxSize > 0 }

// get returns the cached list of userID, or nil with the generation a load must present to
// put its result.
func (c *friendsCache) get(userID string, now time.Time) (*friendsList, uint64) {
	s := c.shard(userID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.lists[userID]; ok {
		l := el.Value.(*friendsList)
		if now.Before(l.expires) {
			s.lru.MoveToFront(el)
			return l, 0
		}
		s.remove(el)
	}
	return nil, s.gen
}

// put caches l unless an invalidation happened since gen was read, evicting the least
// recently used lists beyond the shard's size.
func (c *friendsCache) put(l *friendsList, gen uint64) {
	s := c.shard(l.userID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen || l.size() > s.maxSize {
		return
	}
	if el, ok := s.lists[l.userID]; ok {
		s.remove(el)
	}
	s.lists[l.userID] = s.lru.PushFront(l)
	s.size += l.size()
	for s.size > s.maxSize {
		s.remove(s.lru.Back())
	}
}

func (s *friendsShard) remove(el *list.Element) {
	l := s.lru.Remove(el).(*friendsList)
	delete(s.lists, l.userID)
	s.size -= l.size()
}

// drop forgets the lists of ids.
func (c *friendsCache) drop(ids []string) {
	for _, id := range ids {
		s := c.shard(id)
		s.mu.Lock()
		s.gen++
		if el, ok := s.lists[id]; ok {
			s.remove(el)
		}
		s.mu.Unlock()
	}
}

// dropAll forgets every list.
func (c *friendsCache) dropAll() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.gen++
		clear(s.lists)
		s.lru.Init()
		s.size = 0
		s.mu.Unlock()
	}
}

// len returns how many lists are cached.
func (c *friendsCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.lists)
		s.mu.Unlock()
	}
	return n
}

// friendsCacheBody is the body of a friendsCacheEvent.
type friendsCacheBody struct {
	Type    string   `json:"type"`
	UserIDs []string `json:"user_ids,omitempty"`
	All     bool     `json:"all,omitempty"`
}

// deliver applies an invalidation published by any node. It never blocks.
func (a *App) deliverFriendsCache(e plop.Event) {
	if e.Type != friendsCacheEvent {
		return
	}
	var b friendsCacheBody
	if err := json.Unmarshal(e.Body, &b); err != nil {
		a.log.Warn("decode friends cache event; dropping every cached list", "err", err)
		a.friendsCache.dropAll()
		return
	}
	if b.All {
		a.friendsCache.dropAll()
		return
	}
	a.friendsCache.drop(b.UserIDs)
}

// StartFriendsCache subscribes to the friends-cache invalidations of every node and turns
// the cache on until ctx is done; then the cache is emptied and off. It returns once the
// subscription is in place.
func (a *App) StartFriendsCache(ctx context.Context) error {
	c := a.friendsCache
	if c.shards[0].maxSize <= 0 {
		return nil
	}
	if err := a.broker.Subscribe(ctx, a.deliverFriendsCache); err != nil {
		return fmt.Errorf("friends cache: subscribe to invalidations: %w", err)
	}
	c.on.Add(1)
	context.AfterFunc(ctx, func() {
		c.on.Add(-1)
		c.dropAll()
	})
	return nil
}

// friendsChanged drops the cached lists of ids on this node, then on every node. The change
// is stored by then, so a caller that went away does not stop the news.
func (a *App) friendsChanged(ctx context.Context, ids ...string) {
	ctx = context.WithoutCancel(ctx)
	if len(ids) > friendsInvalidateMax {
		a.allFriendsChanged(ctx)
		return
	}
	a.friendsCache.drop(ids)
	a.publish(ctx, plop.Event{Type: friendsCacheEvent}, friendsCacheBody{Type: friendsCacheEvent, UserIDs: ids})
}

// allFriendsChanged drops every cached list on this node, then on every node.
func (a *App) allFriendsChanged(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	a.friendsCache.dropAll()
	a.publish(ctx, plop.Event{Type: friendsCacheEvent}, friendsCacheBody{Type: friendsCacheEvent, All: true})
}

// profileChanged drops the cached lists that show me: those of all my friends. It runs
// after the change is stored.
func (a *App) profileChanged(ctx context.Context, me string) {
	ctx = context.WithoutCancel(ctx)
	ids, err := a.friendIDs(ctx, me)
	if err != nil {
		a.log.WarnContext(ctx, "load friends after a profile change; dropping every cached list", "user_id", me, "err", err)
		a.allFriendsChanged(ctx)
		return
	}
	if len(ids) == 0 {
		return
	}
	a.friendsChanged(ctx, ids...)
}

// friendsList returns me's list from the cache, or from the store (then caching it).
func (a *App) friendsList(ctx context.Context, me string) (*friendsList, error) {
	c := a.friendsCache
	serving := c.serving()
	var gen uint64
	now := a.now()
	if serving {
		var l *friendsList
		if l, gen = c.get(me, now); l != nil {
			return l, nil
		}
	}
	friends, err := a.store.Friends(ctx, me)
	if err != nil {
		return nil, err
	}
	l := &friendsList{userID: me, friends: make([]cachedFriend, len(friends)), expires: now.Add(c.ttl)}
	for i := range friends {
		u := a.withAvatarURL(friends[i].User.Public())
		ub, err := json.Marshal(u)
		if err != nil {
			return nil, fmt.Errorf("encode friend: %w", err)
		}
		sb, err := friends[i].Since.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("encode friend: %w", err)
		}
		l.friends[i] = cachedFriend{
			profile: unique.Make(friendProfile{id: u.ID, json: string(ub)}),
			since:   string(sb),
		}
	}
	if serving {
		c.put(l, gen)
	}
	return l, nil
}

// appendPresenceJSON appends p as encoding/json encodes it.
func appendPresenceJSON(b []byte, p plop.Presence) []byte {
	b = append(b, `{"user_id":`...)
	b = appendJSONString(b, p.UserID)
	if p.Online {
		b = append(b, `,"online":true,"last_seen":`...)
	} else {
		b = append(b, `,"online":false,"last_seen":`...)
	}
	if p.LastSeen == nil {
		b = append(b, "null"...)
	} else if t, err := p.LastSeen.MarshalJSON(); err == nil {
		b = append(b, t...)
	} else {
		b = append(b, "null"...)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string the way encoding/json writes it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
