package app

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/auth"
	"github.com/plop-chat/plop/blob"
	"github.com/plop-chat/plop/inmem"
	"github.com/plop-chat/plop/mail"
	"github.com/plop-chat/plop/sqlstore"
)

// testApp is a real *App on a SQLite file, the in-process broker, presence and limiter, a
// mail outbox and a disk blob store, all under the test's temporary directory, with a clock
// the test moves and a recorder of every published event.
type testApp struct {
	*App
	store  *sqlstore.DB
	clock  *testClock
	events *eventLog
}

// newTestApp builds a testApp with cfg (zero fields take the defaults).
func newTestApp(tb testing.TB, cfg Config) *testApp {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	db, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(dir, "plop.db"), quiet)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	outbox, err := mail.NewOutbox(filepath.Join(dir, "outbox"), "Plop <plop@example.com>", quiet)
	if err != nil {
		tb.Fatalf("outbox: %v", err)
	}
	blobs, err := blob.NewDisk(filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatalf("blob store: %v", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatalf("signing key: %v", err)
	}
	clock := &testClock{}
	clock.t.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	limiter := inmem.NewLimiterClock(clock.Now)
	tb.Cleanup(func() { limiter.Close() })
	broker := inmem.NewBroker()
	events := &eventLog{}
	subCtx, cancel := context.WithCancel(ctx)
	tb.Cleanup(cancel)
	if err := broker.Subscribe(subCtx, events.add); err != nil {
		tb.Fatalf("subscribe: %v", err)
	}
	a, err := New(Deps{
		Store:     db,
		Presence:  inmem.NewPresence(),
		Broker:    broker,
		Limiter:   limiter,
		Blobs:     blobs,
		Mailer:    outbox,
		Passwords: auth.Passwords{Params: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		Tokens:    auth.NewTokens(auth.NewKeySet(key), "plop", "plop", time.Minute),
		Codes:     auth.NewCodeHasher([]byte("test code secret")),
		Logger:    slog.New(slog.NewTextHandler(testLogWriter{tb}, nil)),
		Now:       clock.Now,
	}, cfg)
	if err != nil {
		tb.Fatalf("new app: %v", err)
	}
	return &testApp{App: a, store: db, clock: clock, events: events}
}

// deps returns the dependencies of ta's App: a second App built from them is another node
// on the same store and services.
func (ta *testApp) deps() Deps {
	return Deps{
		Store: ta.store, Sessions: ta.sessions, VerificationCodes: ta.vcodes, Presence: ta.presence,
		Broker: ta.broker, Limiter: ta.limiter, Blobs: ta.blobs, Mailer: ta.mailer,
		Passwords: ta.passwords, Tokens: ta.tokens, Codes: ta.codes, Logger: ta.log, Now: ta.now,
	}
}

// testLogWriter sends the app's log lines to the test's log.
type testLogWriter struct{ tb testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// testClock is a clock that moves only when told to.
type testClock struct{ t atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *testClock) Advance(d time.Duration) { c.t.Add(int64(d)) }

// user creates a verified user named name directly in the store and returns its id.
func (ta *testApp) user(tb testing.TB, name string) string {
	tb.Helper()
	u := plop.User{
		ID:        uuid.Must(uuid.NewV7()).String(),
		Email:     fmt.Sprintf("%s-%s@example.com", name, uuid.NewString()[:8]),
		Name:      name,
		Verified:  true,
		CreatedAt: ta.clock.Now(),
	}
	if err := ta.store.CreateUser(context.Background(), &u); err != nil {
		tb.Fatalf("create user %s: %v", name, err)
	}
	return u.ID
}

// befriend makes a and b friends through the app, as the two users would.
func (ta *testApp) befriend(tb testing.TB, a, b string) {
	tb.Helper()
	ctx := context.Background()
	r, err := ta.SendFriendRequest(ctx, a, FriendRequestInput{UserID: b})
	if err != nil {
		tb.Fatalf("friend request %s → %s: %v", a, b, err)
	}
	if _, err := ta.AcceptFriendRequest(ctx, b, r.ID); err != nil {
		tb.Fatalf("accept friend request %s → %s: %v", a, b, err)
	}
}

// friendOf creates a verified user who is a friend of each of others and returns its id.
func (ta *testApp) friendOf(tb testing.TB, name string, others ...string) string {
	tb.Helper()
	id := ta.user(tb, name)
	for _, o := range others {
		ta.befriend(tb, o, id)
	}
	return id
}

// direct opens the direct room of a and b, who must be friends.
func (ta *testApp) direct(tb testing.TB, a, b string) plop.Room {
	tb.Helper()
	r, _, err := ta.CreateRoom(context.Background(), a, RoomInput{Type: plop.RoomDirect, MemberIDs: []string{b}})
	if err != nil {
		tb.Fatalf("create direct room: %v", err)
	}
	return r
}

// group creates a group of creator and members, who must be creator's friends.
func (ta *testApp) group(tb testing.TB, creator, name string, members ...string) plop.Room {
	tb.Helper()
	r, _, err := ta.CreateRoom(context.Background(), creator, RoomInput{Type: plop.RoomGroup, Name: name, MemberIDs: members})
	if err != nil {
		tb.Fatalf("create group: %v", err)
	}
	return r
}

// send sends body to roomID as me and returns the stored message.
func (ta *testApp) send(tb testing.TB, me, roomID, body string) plop.Message {
	tb.Helper()
	m, _, err := ta.SendMessage(context.Background(), me, roomID, MessageInput{Body: body})
	if err != nil {
		tb.Fatalf("send %q: %v", body, err)
	}
	return m
}

// eventLog records the events published on the broker.
type eventLog struct {
	mu     sync.Mutex
	events []plop.Event
	off    bool // benchmarks record nothing
}

func (l *eventLog) add(e plop.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.off {
		l.events = append(l.events, e)
	}
}

// discard stops recording, for benchmarks.
func (l *eventLog) discard() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.off, l.events = true, nil
}

// reset forgets the events recorded so far.
func (l *eventLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = nil
}

// ofType returns the recorded events of type typ, oldest first.
func (l *eventLog) ofType(typ string) []plop.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []plop.Event
	for _, e := range l.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// next waits until an event of type typ has been recorded, removes the oldest one from the
// log and returns it.
func (l *eventLog) next(tb testing.TB, typ string) plop.Event {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l.mu.Lock()
		for i, e := range l.events {
			if e.Type == typ {
				l.events = append(l.events[:i:i], l.events[i+1:]...)
				l.mu.Unlock()
				return e
			}
		}
		l.mu.Unlock()
		if time.Now().After(deadline) {
			tb.Fatalf("no %s event within 5s", typ)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// none fails the test when an event of type typ has been recorded. The in-process broker
// delivers during Publish, so anything the app published has been recorded when it returns.
func (l *eventLog) none(tb testing.TB, typ string) {
	tb.Helper()
	if got := l.ofType(typ); len(got) > 0 {
		tb.Fatalf("unexpected %s events: %s", typ, got[0].Body)
	}
}

// decodeBody decodes an event's JSON body into a T.
func decodeBody[T any](tb testing.TB, e plop.Event) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(e.Body, &v); err != nil {
		tb.Fatalf("decode %s body %s: %v", e.Type, e.Body, err)
	}
	return v
}

// wantCode fails the test unless err has the error code want.
func wantCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := plop.ErrorCode(err); got != want {
		tb.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

// sameIDs reports whether a and b hold the same ids in any order.
func sameIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]int, len(a))
	for _, id := range a {
		seen[id]++
	}
	for _, id := range b {
		seen[id]--
		if seen[id] < 0 {
			return false
		}
	}
	return true
}
