package realtime_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/auth"
	"github.com/plop-chat/plop/blob"
	"github.com/plop-chat/plop/client"
	"github.com/plop-chat/plop/httpapi"
	"github.com/plop-chat/plop/inmem"
	"github.com/plop-chat/plop/mail"
	"github.com/plop-chat/plop/realtime"
	"github.com/plop-chat/plop/sqlstore"
)

// node is one Plop node for these tests: the real services on SQLite in a temporary
// directory, the in-process broker, presence and limiter, the REST API and the /ws endpoint
// on a loopback port.
type node struct {
	App    *app.App
	RT     *realtime.Server
	DB     *sqlstore.DB
	Broker *inmem.Broker
	Tokens *auth.Tokens
	Calls  *recordingApp
	Reg    *prometheus.Registry
	URL    string // http://127.0.0.1:PORT
	WSURL  string // ws://127.0.0.1:PORT/ws
}

// startNode starts a node whose real-time server runs with opt (a PresenceGrace of 0 is
// shortened to 100ms for tests); it stops when the test ends.
func startNode(tb testing.TB, opt realtime.Options) *node {
	tb.Helper()
	return startNodeWrapped(tb, opt, nil)
}

// startNodeWrapped is startNode whose real-time server sees the services through wrap, when
// not nil.
func startNodeWrapped(tb testing.TB, opt realtime.Options, wrap func(*recordingApp) realtime.App) *node {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("PLOP_TEST_LOG") == "1" {
		logger = slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	db, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(dir, "plop.db"), logger)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tokens := auth.NewTokens(auth.NewKeySet(key), "plop", "plop", time.Hour)
	outbox, err := mail.NewOutbox(filepath.Join(dir, "outbox"), "plop@test", logger)
	if err != nil {
		tb.Fatal(err)
	}
	blobs, err := blob.NewDisk(filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatal(err)
	}
	limiter := inmem.NewLimiter()
	broker := inmem.NewBroker()
	params := auth.DefaultArgon2
	params.Memory, params.Time = 64, 1
	a, err := app.New(app.Deps{
		Store:     db,
		Presence:  inmem.NewPresence(),
		Broker:    broker,
		Limiter:   limiter,
		Blobs:     blobs,
		Mailer:    outbox,
		Passwords: auth.Passwords{Params: params},
		Tokens:    tokens,
		Codes:     auth.NewCodeHasher([]byte("0123456789abcdef0123456789abcdef")),
		Logger:    logger,
	}, app.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	if opt.PresenceGrace == 0 {
		opt.PresenceGrace = 100 * time.Millisecond
	}
	if opt.Logger == nil {
		opt.Logger = logger
	}
	reg := prometheus.NewRegistry()
	opt.Registry = reg
	rec := &recordingApp{App: a}
	var rtApp realtime.App = rec
	if wrap != nil {
		rtApp = wrap(rec)
	}
	rt, err := realtime.New(rtApp, broker, opt)
	if err != nil {
		tb.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	if err := rt.Start(runCtx); err != nil {
		tb.Fatal(err)
	}
	api := httpapi.New(a, httpapi.Options{Logger: logger, Registry: prometheus.NewRegistry(), Extra: map[string]http.Handler{"/ws": rt}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	hs := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	tb.Cleanup(func() {
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		defer scancel()
		if err := rt.Close(sctx); err != nil {
			tb.Errorf("close realtime: %v", err)
		}
		if err := hs.Shutdown(sctx); err != nil {
			tb.Errorf("shutdown http: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("serve: %v", err)
		}
		cancel()
		limiter.Close()
		db.Close()
	})
	addr := ln.Addr().String()
	return &node{App: a, RT: rt, DB: db, Broker: broker, Tokens: tokens, Calls: rec, Reg: reg,
		URL: "http://" + addr, WSURL: "ws://" + addr + "/ws"}
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// user is a verified account with an access token.
type user struct {
	ID, Name, Token string
}

// newUser creates a verified user directly in the store and issues it an access token.
func (n *node) newUser(tb testing.TB, name string) user {
	tb.Helper()
	ctx := context.Background()
	u := plop.User{
		ID:           uuid.Must(uuid.NewV7()).String(),
		Email:        strings.ToLower(name) + "-" + uuid.NewString()[:8] + "@example.com",
		Name:         name,
		PasswordHash: "unused",
		CreatedAt:    plop.UTC(time.Now()),
	}
	if err := n.DB.CreateUser(ctx, &u); err != nil {
		tb.Fatalf("create user: %v", err)
	}
	yes := true
	if _, err := n.DB.UpdateUser(ctx, u.ID, plop.UserUpdate{Verified: &yes}); err != nil {
		tb.Fatalf("verify user: %v", err)
	}
	tok, _, err := n.Tokens.Issue(u.ID, "session-"+u.ID, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return user{ID: u.ID, Name: name, Token: tok}
}

// befriend makes a and b friends.
func (n *node) befriend(tb testing.TB, a, b user) {
	tb.Helper()
	ctx := context.Background()
	req, err := n.App.SendFriendRequest(ctx, a.ID, app.FriendRequestInput{UserID: b.ID})
	if err != nil {
		tb.Fatalf("friend request: %v", err)
	}
	if _, err := n.App.AcceptFriendRequest(ctx, b.ID, req.ID); err != nil {
		tb.Fatalf("accept friend request: %v", err)
	}
}

// direct returns the direct room of two friends.
func (n *node) direct(tb testing.TB, a, b user) string {
	tb.Helper()
	n.befriend(tb, a, b)
	r, _, err := n.App.CreateRoom(context.Background(), a.ID, app.RoomInput{Type: plop.RoomDirect, MemberIDs: []string{b.ID}})
	if err != nil {
		tb.Fatalf("create direct room: %v", err)
	}
	return r.ID
}

// group returns a group of owner and others, who become owner's friends.
func (n *node) group(tb testing.TB, owner user, others ...user) string {
	tb.Helper()
	ids := make([]string, len(others))
	for i, o := range others {
		n.befriend(tb, owner, o)
		ids[i] = o.ID
	}
	r, _, err := n.App.CreateRoom(context.Background(), owner.ID, app.RoomInput{Type: plop.RoomGroup, Name: "group", MemberIDs: ids})
	if err != nil {
		tb.Fatalf("create group: %v", err)
	}
	return r.ID
}

// dial connects u with the Go client; the connection is closed when the test ends.
func (n *node) dial(tb testing.TB, u user, opts ...client.STOMPOption) *client.STOMPConn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.DialSTOMP(ctx, n.WSURL, u.Token, opts...)
	if err != nil {
		tb.Fatalf("dial as %s: %v", u.Name, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// subscribe subscribes c to destination, failing the test on error.
func subscribe(tb testing.TB, c *client.STOMPConn, destination string) *client.Subscription {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.Subscribe(ctx, destination)
	if err != nil {
		tb.Fatalf("subscribe to %s: %v", destination, err)
	}
	return s
}

// next returns the next event of s, failing the test when none comes within 10 seconds.
func next(tb testing.TB, s *client.Subscription) client.Event {
	tb.Helper()
	select {
	case ev, ok := <-s.C:
		if !ok {
			tb.Fatalf("subscription to %s ended", s.Destination)
		}
		return ev
	case <-time.After(10 * time.Second):
		tb.Fatalf("no event on %s within 10s", s.Destination)
	}
	return client.Event{}
}

// nextOfType skips events of other types (presence, room.created ...) until one of typ.
func nextOfType(tb testing.TB, s *client.Subscription, typ string) client.Event {
	tb.Helper()
	for {
		if ev := next(tb, s); ev.Type == typ {
			return ev
		}
	}
}

// ended waits for c to end and returns why.
func ended(tb testing.TB, c *client.STOMPConn) error {
	tb.Helper()
	select {
	case err := <-c.Err():
		return err
	case <-time.After(10 * time.Second):
		tb.Fatal("the connection did not end within 10s")
	}
	return nil
}

// eventually polls cond until it holds, failing the test after 10 seconds.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recordingApp passes every call to the services and records the presence calls.
type recordingApp struct {
	*app.App
	mu           sync.Mutex
	connected    []string // conn ids
	disconnected []string
}

func (r *recordingApp) Connected(ctx context.Context, me, connID string) error {
	r.mu.Lock()
	r.connected = append(r.connected, connID)
	r.mu.Unlock()
	return r.App.Connected(ctx, me, connID)
}

func (r *recordingApp) Disconnected(ctx context.Context, me, connID string) error {
	err := r.App.Disconnected(ctx, me, connID)
	r.mu.Lock()
	r.disconnected = append(r.disconnected, connID)
	r.mu.Unlock()
	return err
}

// wasDisconnected reports whether Disconnected has returned for connID.
func (r *recordingApp) wasDisconnected(connID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.disconnected {
		if c == connID {
			return true
		}
	}
	return false
}
