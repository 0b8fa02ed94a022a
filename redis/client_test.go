package redis

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

func TestOpenTakesThePrefixFromTheURL(t *testing.T) {
	mustClient(t) // skips without Redis
	sep := "?"
	if strings.Contains(testURL(), "?") {
		sep = "&"
	}
	c, err := Open(context.Background(), testURL()+sep+"prefix=cluster-b:", quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Prefix() != "cluster-b:" {
		t.Fatalf("prefix = %q, want cluster-b:", c.Prefix())
	}
	if ch := NewBroker(c).channel; ch != "cluster-b:events" {
		t.Fatalf("events channel = %q, want cluster-b:events", ch)
	}
	d, err := Open(context.Background(), testURL(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Prefix() != DefaultPrefix {
		t.Fatalf("default prefix = %q, want %q", d.Prefix(), DefaultPrefix)
	}
}

func TestOpenRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:6379", "redis://127.0.0.1:6379/zero", "redis://127.0.0.1:6379/0?no_such_option=1", "::"} {
		c, err := Open(context.Background(), u, quiet)
		if err == nil {
			c.Close()
			t.Errorf("Open(%q) succeeded", u)
			continue
		}
		if errors.Is(err, plop.ErrUnavailable) {
			t.Errorf("Open(%q): a configuration error reported as unavailable: %v", u, err)
		}
	}
}

func TestUnreachableRedisFailsFast(t *testing.T) {
	srv := startPrivateServer(t)
	c := srv.open(t)
	url := srv.url()
	srv.kill()

	start := time.Now()
	if _, err := Open(context.Background(), url, quiet); !errors.Is(err, plop.ErrUnavailable) {
		t.Fatalf("Open with nothing listening: err = %v, want one wrapping ErrUnavailable", err)
	}
	ctx := context.Background()
	checks := map[string]error{
		"ping": c.Ping(ctx),
	}
	_, _, checks["allow"] = NewLimiter(c).Allow(ctx, "k", 1, time.Second)
	_, checks["rotate"] = NewSessionStore(c).RotateRefreshToken(ctx, "a", "b", time.Now(), time.Now())
	_, checks["code"] = NewCodeStore(c).Code(ctx, "a@example.com")
	checks["save code"] = NewCodeStore(c).SaveCode(ctx, plop.VerificationCode{Email: "a@example.com"})
	for op, err := range checks {
		if !errors.Is(err, plop.ErrUnavailable) || plop.ErrorCode(err) != plop.EUnavailable {
			t.Errorf("%s with Redis down: err = %v, want one wrapping ErrUnavailable", op, err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("%d failures took %v, want them fast", len(checks)+1, d)
	}
}

// TestHungRedisTimesOut talks to a server that accepts connections and never answers: the
// caller gets unavailable after the short timeouts, not a hang.
func TestHungRedisTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				io.Copy(io.Discard, conn)
			}()
		}
	}()
	start := time.Now()
	_, err = Open(context.Background(), "redis://"+l.Addr().String()+"/0", quiet)
	if !errors.Is(err, plop.ErrUnavailable) {
		t.Fatalf("Open on a silent server: err = %v, want one wrapping ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Open on a silent server took %v to fail", d)
	}
}

// TestKeysStayUnderThePrefixAndExpire exercises every store on a Redis of the test's own and
// then checks every key in it: each starts with the prefix and has a TTL, so that a cluster
// shares a Redis politely and leaves nothing behind forever.
func TestKeysStayUnderThePrefixAndExpire(t *testing.T) {
	srv := startPrivateServer(t)
	c := srv.open(t).WithPrefix("cluster-x:")
	ctx := context.Background()
	now := plop.UTC(time.Now())

	b := NewBroker(c)
	in := mustSubscribe(t, t.Context(), b)
	if err := b.Publish(ctx, plop.Event{Type: "x", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the event", func() bool { return in.has("x", 1) })
	chans, err := c.rdb.PubSubChannels(ctx, "*").Result()
	if err != nil || len(chans) != 1 || chans[0] != "cluster-x:events" {
		t.Fatalf("pub/sub channels = %v (%v), want [cluster-x:events]", chans, err)
	}

	p := NewPresence(c, "node")
	defer p.Close()
	if _, err := p.Connect(ctx, "u1", "c1", now); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Connect(ctx, "u2", "c1", now); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Disconnect(ctx, "u2", "c1", now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := NewLimiter(c).Allow(ctx, "k", 5, time.Minute); err != nil {
		t.Fatal(err)
	}
	ss := NewSessionStore(c)
	if err := ss.CreateSession(ctx, plop.Session{ID: "s1", UserID: "u1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, "h1"); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.RotateRefreshToken(ctx, "h1", "h2", now.Add(2*time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if err := NewCodeStore(c).SaveCode(ctx, plop.VerificationCode{Email: "a@example.com", CodeHash: "h", ExpiresAt: now.Add(time.Minute), SentAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewCodeStore(c).AddCodeAttempt(ctx, "a@example.com"); err != nil {
		t.Fatal(err)
	}

	keys, err := c.rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 7 {
		t.Fatalf("only %d keys written: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "cluster-x:") {
			t.Errorf("key %q is outside the prefix", k)
		}
		if ttl, err := c.rdb.PTTL(ctx, k).Result(); err != nil || ttl <= 0 {
			t.Errorf("key %q has TTL %v (%v), want one", k, ttl, err)
		}
	}
	// The spent token outlives its own expiry: it lasts as long as the session it
	// extended, so that presenting it again is recognized as reuse.
	ttl, err := c.rdb.PTTL(ctx, "cluster-x:refresh:h1").Result()
	if err != nil || ttl < 2*time.Hour {
		t.Fatalf("TTL of the spent token = %v (%v), want at least the session's remaining 2h", ttl, err)
	}
}
