package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
)

// chatRoom is one seeded room of a chat run.
type chatRoom struct {
	id      string
	members []int // user indexes
	direct  bool
}

// chatWorld is the seeded users and rooms of a chat run and each user's live connection.
type chatWorld struct {
	cfg   Config
	nodes cluster
	rest  *http.Client
	users []*chatUser
	rooms []*chatRoom
	byID  map[string]int // room id -> index

	delivery       *Meter
	deliveries     atomic.Int64 // message.created frames received
	doubledLive    atomic.Int64 // the same message twice on a user's connections
	filled         atomic.Int64 // messages a reconnecting user fetched from history
	typingEvents   atomic.Int64
	readEvents     atomic.Int64
	otherEvents    atomic.Int64
	reconnects     atomic.Int64 // planned (churn)
	unplanned      atomic.Int64 // connections that ended by themselves
	reconnectFails atomic.Int64
}

// chatUser is one user of the run with its connection.
type chatUser struct {
	idx   int
	u     *user
	rooms []int // room indexes, the group first

	reconnecting sync.Mutex // held by the one reconnect of this user in progress

	mu    sync.Mutex
	conn  *client.STOMPConn // nil while reconnecting
	ready chan struct{}     // closed once conn is set
	recv  map[int]*roomRecv // room index -> what the user has of the room
	gen   int               // connection generation, to tell planned ends from unplanned
}

// roomRecv is what one user has received of one room: live on its connections, and in all
// (live, or fetched from history after a reconnect).
type roomRecv struct {
	live, all seqSet
}

// seedChat creates the users, makes the friendships and the rooms: groups of RoomSize
// whose first user is friends with the others and created the group, plus direct rooms
// pairing the other members two by two (an odd one out pairs with the first user).
func seedChat(ctx context.Context, cfg Config, n cluster, sd *seeder) (*chatWorld, error) {
	users, err := sd.users(ctx, cfg.Users)
	if err != nil {
		return nil, err
	}
	w := &chatWorld{cfg: cfg, nodes: n, byID: map[string]int{}, delivery: NewMeter("delivery"),
		rest: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	for i, u := range users {
		w.users = append(w.users, &chatUser{idx: i, u: u, ready: make(chan struct{}), recv: map[int]*roomRecv{}})
	}
	var pairs, directs [][2]int
	size := cfg.RoomSize
	var groups [][]int
	for lo := 0; lo < len(users); lo += size {
		hi := min(len(users), lo+size)
		g := []int{}
		for i := lo; i < hi; i++ {
			g = append(g, i)
			if i > lo {
				pairs = append(pairs, [2]int{lo, i})
			}
		}
		groups = append(groups, g)
		for i := lo + 1; i < hi; i += 2 {
			if i+1 < hi {
				directs = append(directs, [2]int{i, i + 1})
				pairs = append(pairs, [2]int{i, i + 1})
			} else if i > lo {
				directs = append(directs, [2]int{i, lo})
			}
		}
	}
	if err := sd.friendships(ctx, users, pairs); err != nil {
		return nil, err
	}
	ids, err := sd.rooms(ctx, len(groups)+len(directs), func(k int) (*user, []string, bool) {
		if k < len(groups) {
			g := groups[k]
			others := make([]string, 0, len(g)-1)
			for _, i := range g[1:] {
				others = append(others, users[i].ID)
			}
			return users[g[0]], others, true
		}
		d := directs[k-len(groups)]
		return users[d[0]], []string{users[d[1]].ID}, false
	})
	if err != nil {
		return nil, err
	}
	for k, id := range ids {
		r := &chatRoom{id: id}
		if k < len(groups) {
			r.members = groups[k]
		} else {
			d := directs[k-len(groups)]
			r.members, r.direct = []int{d[0], d[1]}, true
		}
		w.byID[id] = len(w.rooms)
		w.rooms = append(w.rooms, r)
		for _, m := range r.members {
			w.users[m].rooms = append(w.users[m].rooms, k)
			w.users[m].recv[k] = &roomRecv{}
		}
	}
	return w, nil
}

// connectAll opens every user's connection.
func (w *chatWorld) connectAll(ctx context.Context) error {
	return parallel(ctx, w.cfg.Progress, "connect", len(w.users), w.cfg.SeedConcurrency, func(ctx context.Context, i int) error {
		return w.connect(ctx, w.users[i])
	})
}

// connect dials a connection for cu, subscribes to its queue, starts its reader, and then
// fills from history whatever its rooms got while it had no connection.
func (w *chatWorld) connect(ctx context.Context, cu *chatUser) error {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := client.DialSTOMP(dctx, w.nodes.pick(cu.idx).wsURL, cu.u.Token,
		client.WithEventBuffer(64), client.WithHeartBeat(10*time.Second, 10*time.Second))
	if err != nil {
		return fmt.Errorf("connect user %d: %w", cu.idx, err)
	}
	sub, err := conn.Subscribe(dctx, client.UserQueue)
	if err != nil {
		conn.Close()
		return fmt.Errorf("subscribe user %d: %w", cu.idx, err)
	}
	cu.mu.Lock()
	cu.gen++
	gen := cu.gen
	cu.conn = conn
	select {
	case <-cu.ready:
	default:
		close(cu.ready)
	}
	cu.mu.Unlock()
	go w.read(ctx, cu, gen, sub)
	return w.fill(ctx, cu)
}

// read consumes one connection's events until it ends; an end nobody asked for reconnects.
func (w *chatWorld) read(ctx context.Context, cu *chatUser, gen int, sub *client.Subscription) {
	for ev := range sub.C {
		switch ev.Type {
		case plop.EventMessageCreated:
			w.deliveries.Add(1)
			if _, _, sent, ok := parseMarker(ev.Body); ok {
				w.delivery.Shard(cu.idx).Record(time.Duration(now() - sent))
			}
			k, ok := w.byID[ev.RoomID]
			if !ok {
				w.otherEvents.Add(1)
				continue
			}
			cu.mu.Lock()
			rr := cu.recv[k]
			dup := rr.live.add(ev.Seq)
			rr.all.add(ev.Seq)
			cu.mu.Unlock()
			if dup {
				w.doubledLive.Add(1)
			}
		case plop.EventTyping:
			w.typingEvents.Add(1)
		case plop.EventRoomRead:
			w.readEvents.Add(1)
		default:
			w.otherEvents.Add(1)
		}
	}
	cu.mu.Lock()
	planned := cu.gen != gen || cu.conn == nil
	cu.mu.Unlock()
	if planned || ctx.Err() != nil {
		return
	}
	w.unplanned.Add(1)
	w.reconnect(ctx, cu)
}

// maxReconnectAttempts bounds the tries of one reconnect (about 30 seconds of them).
const maxReconnectAttempts = 30

// reconnect closes cu's connection (if it still has one) and opens a new one. It does
// nothing when a reconnect of cu is in progress already.
func (w *chatWorld) reconnect(ctx context.Context, cu *chatUser) {
	if !cu.reconnecting.TryLock() {
		return
	}
	defer cu.reconnecting.Unlock()
	cu.mu.Lock()
	old := cu.conn
	cu.conn = nil
	cu.gen++
	cu.ready = make(chan struct{})
	cu.mu.Unlock()
	if old != nil {
		old.Close()
	}
	for attempt := 0; attempt < maxReconnectAttempts && ctx.Err() == nil; attempt++ {
		err := w.connect(ctx, cu)
		if err == nil {
			return
		}
		w.reconnectFails.Add(1)
		w.cfg.Logger.Warn("reconnect", "user", cu.idx, "err", err)
		if sleepCtx(ctx, time.Duration(min(attempt+1, 10))*100*time.Millisecond) != nil {
			return
		}
	}
}

// fill fetches from history the messages of cu's rooms past the prefix it has received.
func (w *chatWorld) fill(ctx context.Context, cu *chatUser) error {
	api := client.New(w.nodes.pick(cu.idx).url, client.WithHTTPClient(w.rest)).WithToken(cu.u.Token)
	for _, k := range cu.rooms {
		cu.mu.Lock()
		after := cu.recv[k].all.prefix()
		cu.mu.Unlock()
		msgs, err := messagesAfter(ctx, api, w.rooms[k].id, after)
		if err != nil {
			return fmt.Errorf("history of room %d for user %d: %w", k, cu.idx, err)
		}
		cu.mu.Lock()
		for _, m := range msgs {
			if !cu.recv[k].all.add(m.Seq) {
				w.filled.Add(1)
			}
		}
		cu.mu.Unlock()
	}
	return nil
}

// currentConn waits for cu's connection (it may be reconnecting).
func (cu *chatUser) currentConn(ctx context.Context) (*client.STOMPConn, error) {
	for {
		cu.mu.Lock()
		c, ready := cu.conn, cu.ready
		cu.mu.Unlock()
		if c != nil {
			return c, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// closeAll closes every connection, as a planned end.
func (w *chatWorld) closeAll(ctx context.Context) {
	_ = parallel(context.WithoutCancel(ctx), w.cfg.Progress, "disconnect", len(w.users), 64, func(ctx context.Context, i int) error {
		cu := w.users[i]
		cu.mu.Lock()
		c := cu.conn
		cu.conn = nil
		cu.gen++
		cu.mu.Unlock()
		if c != nil {
			c.Close()
		}
		return nil
	})
}
