package redis

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plop-chat/plop"
)

// twoNodes returns two Presences of one cluster, each on its own connection pool.
func twoNodes(t *testing.T, opts ...PresenceOption) (a, b *Presence) {
	t.Helper()
	prefix := mustClient(t).prefix
	a = NewPresence(mustClientPrefix(t, prefix), "node-a", opts...)
	b = NewPresence(mustClientPrefix(t, prefix), "node-b", opts...)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func mustConnect(tb testing.TB, p *Presence, user, conn string) bool {
	tb.Helper()
	came, err := p.Connect(context.Background(), user, conn, time.Now())
	if err != nil {
		tb.Fatalf("connect %s/%s: %v", user, conn, err)
	}
	return came
}

func mustDisconnect(tb testing.TB, p *Presence, user, conn string, now time.Time) bool {
	tb.Helper()
	went, err := p.Disconnect(context.Background(), user, conn, now)
	if err != nil {
		tb.Fatalf("disconnect %s/%s: %v", user, conn, err)
	}
	return went
}

func presenceOf(tb testing.TB, p *Presence, user string) plop.Presence {
	tb.Helper()
	got, err := p.Presence(context.Background(), []string{user})
	if err != nil {
		tb.Fatalf("presence of %s: %v", user, err)
	}
	return got[0]
}

func online(tb testing.TB, p *Presence, user string) bool {
	tb.Helper()
	return presenceOf(tb, p, user).Online
}

func TestPresenceUserOnTwoNodes(t *testing.T) {
	a, b := twoNodes(t)
	u := "user-" + uuid.NewString()
	if !mustConnect(t, a, u, "c1") {
		t.Fatal("first connection, on node a: cameOnline = false")
	}
	// The same connection id on another node is another connection.
	if mustConnect(t, b, u, "c1") {
		t.Fatal("second connection, on node b: cameOnline = true")
	}
	if mustDisconnect(t, a, u, "c1", time.Now()) {
		t.Fatal("leaving node a while connected to node b: wentOffline = true")
	}
	for name, p := range map[string]*Presence{"a": a, "b": b} {
		if !online(t, p, u) {
			t.Fatalf("node %s sees the user offline while node b holds a connection", name)
		}
	}
	left := plop.UTC(time.Now())
	if !mustDisconnect(t, b, u, "c1", left) {
		t.Fatal("leaving the last node: wentOffline = false")
	}
	for name, p := range map[string]*Presence{"a": a, "b": b} {
		got := presenceOf(t, p, u)
		if got.Online || got.LastSeen == nil || !got.LastSeen.Equal(left) {
			t.Fatalf("node %s sees %+v, want offline, last seen %v", name, got, left)
		}
	}
}

func TestPresenceDeadNodeExpires(t *testing.T) {
	const ttl = time.Second
	a, b := twoNodes(t, PresenceTTL(ttl))
	onA, onB, onBoth := "a-"+uuid.NewString(), "b-"+uuid.NewString(), "ab-"+uuid.NewString()
	mustConnect(t, a, onA, "c")
	mustConnect(t, b, onB, "c")
	mustConnect(t, a, onBoth, "c")
	mustConnect(t, b, onBoth, "c")

	// Heartbeats keep live nodes' connections alive well past the TTL. Time is what is
	// under test here.
	time.Sleep(2 * ttl)
	for _, u := range []string{onA, onB, onBoth} {
		if !online(t, b, u) {
			t.Fatalf("%s went offline after %v although both nodes are alive", u, 2*ttl)
		}
	}

	// Node a dies: no more heartbeats, and no Disconnect.
	a.Close()
	died := time.Now()
	// Once the TTL has passed since the last heartbeat could have been sent, the user is
	// offline. (Checking then, not polling until it happens, keeps a loaded machine from
	// failing the test: a late check only finds the user more certainly gone.)
	time.Sleep(time.Until(died.Add(ttl + 50*time.Millisecond)))
	got := presenceOf(t, b, onA)
	if got.Online {
		t.Fatalf("the dead node's user is online %v after its last heartbeat, with a TTL of %v", time.Since(died), ttl)
	}
	// They were last seen at the dead node's last heartbeat.
	if got.LastSeen == nil || got.LastSeen.Before(died.Add(-ttl)) || got.LastSeen.After(died.Add(50*time.Millisecond)) {
		t.Fatalf("last_seen of the dead node's user = %v, want its last heartbeat, shortly before %v", got.LastSeen, died)
	}
	if !online(t, b, onB) || !online(t, b, onBoth) {
		t.Fatal("users with a connection on the live node went offline with the other node")
	}

	// The user connected on both is offline as soon as their live connection closes, and
	// that is reported.
	if !mustDisconnect(t, b, onBoth, "c", time.Now()) {
		t.Fatal("closing the last live connection (the other one died with its node): wentOffline = false")
	}
	// Coming back on the live node is coming online.
	if !mustConnect(t, b, onA, "c2") {
		t.Fatal("the dead node's user connecting to the live node: cameOnline = false")
	}
}

func TestPresenceHeartbeatRestoresLostConnections(t *testing.T) {
	c := mustClient(t)
	p := NewPresence(c, "node", PresenceTTL(300*time.Millisecond))
	t.Cleanup(func() { p.Close() })
	u := "user-" + uuid.NewString()
	mustConnect(t, p, u, "c")
	// Redis lost its data (it restarted without persistence).
	if err := c.rdb.Del(context.Background(), p.keys(u)...).Err(); err != nil {
		t.Fatal(err)
	}
	if online(t, p, u) {
		t.Fatal("online right after the keys were deleted")
	}
	waitFor(t, 5*time.Second, "the heartbeat to write the live connection back", func() bool { return online(t, p, u) })
	// A closed connection is not brought back.
	mustDisconnect(t, p, u, "c", time.Now())
	if n := p.local(); n != 0 {
		t.Fatalf("%d local connections after the only one closed", n)
	}
	time.Sleep(300 * time.Millisecond) // three heartbeats
	if online(t, p, u) {
		t.Fatal("a heartbeat brought back a closed connection")
	}
}

func TestPresenceUnavailable(t *testing.T) {
	srv := startPrivateServer(t)
	p := NewPresence(srv.open(t), "node")
	t.Cleanup(func() { p.Close() })
	ctx := context.Background()
	if _, err := p.Connect(ctx, "u", "c1", time.Now()); err != nil {
		t.Fatal(err)
	}
	srv.kill()
	if _, err := p.Connect(ctx, "u", "c2", time.Now()); !errors.Is(err, plop.ErrUnavailable) {
		t.Fatalf("connect with Redis down: err = %v, want one wrapping ErrUnavailable", err)
	}
	if _, err := p.Presence(ctx, []string{"u"}); !errors.Is(err, plop.ErrUnavailable) {
		t.Fatalf("presence with Redis down: err = %v, want one wrapping ErrUnavailable", err)
	}
	if _, err := p.Disconnect(ctx, "u", "c1", time.Now()); !errors.Is(err, plop.ErrUnavailable) {
		t.Fatalf("disconnect with Redis down: err = %v, want one wrapping ErrUnavailable", err)
	}
	// The connection is forgotten here all the same, so it will not be kept alive.
	if n := p.local(); n != 0 {
		t.Fatalf("%d local connections after a failed disconnect, want 0", n)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestPresenceKilledNode runs a node in a child process, connects a user there and kills
// the process with SIGKILL: the user must go offline, as seen from this node, within the
// TTL of the child's last heartbeat.
func TestPresenceKilledNode(t *testing.T) {
	if os.Getenv("PLOP_TEST_PRESENCE_CHILD") != "" {
		runPresenceChild(t)
		return
	}
	const ttl = time.Second
	c := mustClient(t)
	here := NewPresence(c, "survivor", PresenceTTL(ttl))
	t.Cleanup(func() { here.Close() })
	u := "user-" + uuid.NewString()

	child := exec.Command(os.Args[0], "-test.run=^TestPresenceKilledNode$", "-test.count=1")
	child.Env = append(os.Environ(), "PLOP_TEST_PRESENCE_CHILD="+c.prefix+" "+u)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil && strings.TrimSpace(line) != "connected" {
			err = fmt.Errorf("child said %q", line)
		}
		ready <- err
		io.Copy(io.Discard, out)
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("child node: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("child node did not connect the user")
	}
	if !online(t, here, u) {
		t.Fatal("the user connected on the child node is not online here")
	}
	time.Sleep(2 * ttl) // the child's heartbeats keep the user online meanwhile
	if !online(t, here, u) {
		t.Fatal("the user went offline while the child node was alive")
	}

	child.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	time.Sleep(time.Until(killed.Add(ttl + 50*time.Millisecond)))
	got := presenceOf(t, here, u)
	if got.Online {
		t.Fatalf("the killed node's user is online %v after the kill, with a TTL of %v", time.Since(killed), ttl)
	}
	if got.LastSeen == nil || got.LastSeen.After(killed.Add(50*time.Millisecond)) || got.LastSeen.Before(killed.Add(-ttl)) {
		t.Fatalf("last_seen = %v, want the child's last heartbeat, shortly before %v", got.LastSeen, killed)
	}
}

// runPresenceChild is the child node of TestPresenceKilledNode: it connects the user, says
// so on stdout and waits to be killed.
func runPresenceChild(t *testing.T) {
	prefix, user, _ := strings.Cut(os.Getenv("PLOP_TEST_PRESENCE_CHILD"), " ")
	c, err := Open(context.Background(), testURL(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPresence(c.WithPrefix(prefix), "doomed", PresenceTTL(time.Second))
	if _, err := p.Connect(context.Background(), user, "c", time.Now()); err != nil {
		t.Fatal(err)
	}
	fmt.Println("connected")
	time.Sleep(time.Minute) // killed long before
	t.Fatal("the child node was not killed")
}
