package app

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plop-chat/plop/redis"
)

// redisBroker returns a broker on the test Redis under prefix, as one node of a cluster has.
// It skips the test when Redis does not answer, unless PLOP_TEST_REQUIRE_SERVICES=1.
func redisBroker(tb testing.TB, prefix string) *redis.Broker {
	tb.Helper()
	url := os.Getenv("PLOP_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := redis.Open(ctx, url+"?prefix="+prefix, slog.New(slog.DiscardHandler))
	if err == nil {
		err = c.Ping(ctx)
	}
	if err != nil {
		if os.Getenv("PLOP_TEST_REQUIRE_SERVICES") == "1" {
			tb.Fatalf("Redis is required (PLOP_TEST_REQUIRE_SERVICES=1) but %s does not answer: %v", url, err)
		}
		tb.Skipf("Redis at %s does not answer (%v)", url, err)
	}
	tb.Cleanup(func() { c.Close() })
	return redis.NewBroker(c)
}

// TestFriendsCacheAcrossRedisNodes runs two nodes on one store, each with its own Redis
// broker: a change made through one node reaches the lists the other cached well before
// their TTL (the test clock does not move).
func TestFriendsCacheAcrossRedisNodes(t *testing.T) {
	prefix := "plop-test-" + uuid.NewString() + ":"
	ta := newTestApp(t, Config{})
	node := func() *App {
		d := ta.deps()
		d.Broker = redisBroker(t, prefix)
		a, err := New(d, Config{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		if err := a.StartFriendsCache(ctx); err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, b := node(), node()
	ada := ta.user(t, "Ada")
	bob := ta.user(t, "Bob")
	ctx := context.Background()
	r, err := a.SendFriendRequest(ctx, ada, FriendRequestInput{UserID: bob})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AcceptFriendRequest(ctx, bob, r.ID); err != nil {
		t.Fatal(err)
	}
	eventually := func(what, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := names(cachedAnswer(t, b, ada))
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("node b after %s: %s, want %s", what, got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	eventually("the friendship", "Bob")
	renameInStore(t, ta, bob, "Bobby")
	if got := names(cachedAnswer(t, b, ada)); got != "Bob" {
		t.Fatalf("node b does not cache: %s", got)
	}
	if _, err := a.UpdateMe(ctx, bob, ProfileUpdate{Name: ptr("Zed")}); err != nil {
		t.Fatal(err)
	}
	eventually("the rename on node a", "Zed")
	if err := a.Unfriend(ctx, bob, ada); err != nil {
		t.Fatal(err)
	}
	eventually("the unfriending on node a", "")
}
