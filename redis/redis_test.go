package redis

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// quiet discards the logs of the code under test; the tests check behaviour, not logs.
var quiet = slog.New(slog.DiscardHandler)

// testURL is the Redis the tests use: PLOP_TEST_REDIS_URL, else the local default.
func testURL() string {
	if u := os.Getenv("PLOP_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// mustClient opens the test Redis with a fresh key prefix and deletes that prefix's keys at
// the end. It skips the test when Redis does not answer, unless PLOP_TEST_REQUIRE_SERVICES=1
// demands it.
func mustClient(tb testing.TB) *Client {
	tb.Helper()
	return mustClientPrefix(tb, "plop-test-"+uuid.NewString()+":")
}

// mustClientPrefix opens the test Redis with its own connection pool and the given prefix:
// two calls with one prefix are two nodes of one cluster.
func mustClientPrefix(tb testing.TB, prefix string) *Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := Open(ctx, testURL(), quiet)
	if err != nil {
		if os.Getenv("PLOP_TEST_REQUIRE_SERVICES") == "1" {
			tb.Fatalf("Redis is required (PLOP_TEST_REQUIRE_SERVICES=1) but %s does not answer: %v", testURL(), err)
		}
		tb.Skipf("Redis at %s does not answer (%v); start one or set PLOP_TEST_REDIS_URL", testURL(), err)
	}
	c = c.WithPrefix(prefix)
	tb.Cleanup(func() {
		deleteKeys(tb, c)
		c.Close()
	})
	return c
}

// deleteKeys removes every key under c's prefix.
func deleteKeys(tb testing.TB, c *Client) {
	tb.Helper()
	ctx := context.Background()
	iter := c.rdb.Scan(ctx, 0, c.prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Logf("scan test keys: %v", err)
		return
	}
	if len(keys) > 0 {
		if err := c.rdb.Unlink(ctx, keys...).Err(); err != nil {
			tb.Logf("delete test keys: %v", err)
		}
	}
}

// waitFor polls cond until it holds, failing tb after timeout.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// privateServer is a redis-server of the test's own, on a free loopback port, which the
// test may kill and restart without disturbing anyone.
type privateServer struct {
	tb   testing.TB
	port int
	cmd  *exec.Cmd
}

// startPrivateServer starts a redis-server without persistence on a free port. It skips
// the test when the binary is missing (fails under PLOP_TEST_REQUIRE_SERVICES=1).
func startPrivateServer(tb testing.TB) *privateServer {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("PLOP_TEST_REQUIRE_SERVICES") == "1" {
			tb.Fatalf("redis-server is required (PLOP_TEST_REQUIRE_SERVICES=1): %v", err)
		}
		tb.Skipf("redis-server not installed: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &privateServer{tb: tb, port: port}
	s.start()
	tb.Cleanup(s.kill)
	return s
}

func (s *privateServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// start runs the server and waits until it answers.
func (s *privateServer) start() {
	s.tb.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.tb.TempDir(), "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("start redis-server: %v", err)
	}
	waitFor(s.tb, 5*time.Second, "the private redis-server to listen", func() bool {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 100*time.Millisecond)
		if err != nil {
			return false
		}
		conn.Close()
		return true
	})
}

// kill stops the server at once, as a crash would, and waits for it to exit.
func (s *privateServer) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// openPrivate opens a Client on s.
func (s *privateServer) open(tb testing.TB) *Client {
	tb.Helper()
	c, err := Open(context.Background(), s.url(), quiet)
	if err != nil {
		tb.Fatalf("open the private server: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// freezingProxy forwards loopback TCP connections to a target until freeze is called: from
// then on the connections it already has stay open but carry nothing, as over a network
// that silently dropped them, while new connections are forwarded normally.
type freezingProxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	frozen []net.Conn // held so that they stay open
	conns  []net.Conn
}

func startFreezingProxy(tb testing.TB, target string) *freezingProxy {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &freezingProxy{l: l, target: target}
	go p.accept()
	tb.Cleanup(func() {
		l.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range append(p.conns, p.frozen...) {
			c.Close()
		}
	})
	return p
}

func (p *freezingProxy) addr() string { return p.l.Addr().String() }

func (p *freezingProxy) accept() {
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		go io.Copy(out, in)
		go io.Copy(in, out)
	}
}

// freeze stops the current connections from carrying data. The copying goroutines end when
// their ends are closed at cleanup.
func (p *freezingProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		// A deadline in the past makes the copies fail without closing the sockets, so
		// the far ends see silence, not a closed connection.
		c.SetDeadline(time.Unix(1, 0))
	}
	p.frozen = append(p.frozen, p.conns...)
	p.conns = nil
}
