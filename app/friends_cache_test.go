package app

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

// cachedApp is a testApp whose friends cache is on.
func cachedApp(tb testing.TB, cfg Config) *testApp {
	tb.Helper()
	ta := newTestApp(tb, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	if err := ta.StartFriendsCache(ctx); err != nil {
		tb.Fatalf("start friends cache: %v", err)
	}
	return ta
}

// friendsAnswer returns me's friends as GET /friends encodes them, after checking that the
// bytes are those encoding/json gives for the list read from the store now: the answer is
// never stale and keeps its shape.
func friendsAnswer(tb testing.TB, a *App, me string) []plop.Friend {
	tb.Helper()
	got, err := a.AppendFriendsJSON(context.Background(), nil, me)
	if err != nil {
		tb.Fatalf("friends of %s: %v", me, err)
	}
	fresh, err := a.Friends(context.Background(), me)
	if err != nil {
		tb.Fatalf("friends of %s from the store: %v", me, err)
	}
	want, err := json.Marshal(fresh)
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		tb.Fatalf("friends of %s:\n got %s\nwant %s", me, got, want)
	}
	var fs []plop.Friend
	if err := json.Unmarshal(got, &fs); err != nil {
		tb.Fatalf("decode %s: %v", got, err)
	}
	return fs
}

// cachedAnswer returns me's friends as AppendFriendsJSON gives them, without comparing.
func cachedAnswer(tb testing.TB, a *App, me string) []plop.Friend {
	tb.Helper()
	got, err := a.AppendFriendsJSON(context.Background(), nil, me)
	if err != nil {
		tb.Fatalf("friends of %s: %v", me, err)
	}
	var fs []plop.Friend
	if err := json.Unmarshal(got, &fs); err != nil {
		tb.Fatalf("decode %s: %v", got, err)
	}
	return fs
}

func names(fs []plop.Friend) string {
	var n []string
	for _, f := range fs {
		n = append(n, f.User.Name)
	}
	return strings.Join(n, ",")
}

// renameInStore changes a name behind the services' back, as nothing in Plop does: a
// cached list goes on showing the old name, which proves it is served from the cache.
func renameInStore(tb testing.TB, ta *testApp, id, name string) {
	tb.Helper()
	if _, err := ta.store.UpdateUser(context.Background(), id, plop.UserUpdate{Name: &name}); err != nil {
		tb.Fatal(err)
	}
}

func TestFriendsAnswerKeepsItsEncoding(t *testing.T) {
	ta := cachedApp(t, Config{PublicURL: "https://chat.example.com"})
	ctx := context.Background()
	ada := ta.user(t, "Ada")
	odd := ta.friendOf(t, `Zoé <"the" & co>`, ada)
	bob := ta.friendOf(t, "bob", ada)
	if _, err := ta.UpdateMe(ctx, odd, ProfileUpdate{StatusMessage: ptr("line\u2028sep <b> & \"q\"")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.SetAvatar(ctx, bob, bytes.NewReader(testImage(t, 8, 8, "png"))); err != nil {
		t.Fatal(err)
	}
	if err := ta.Connected(ctx, bob, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := ta.Connected(ctx, odd, "c2"); err != nil {
		t.Fatal(err)
	}
	ta.clock.Advance(time.Second)
	if err := ta.Disconnected(ctx, odd, "c2"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first answer fills the cache, the second comes from it
		fs := friendsAnswer(t, ta.App, ada)
		if len(fs) != 2 || !strings.HasPrefix(fs[0].User.AvatarURL, "https://chat.example.com/") || !fs[0].Presence.Online ||
			fs[1].Presence.Online || fs[1].Presence.LastSeen == nil {
			t.Fatalf("friends = %+v", fs)
		}
	}
	lonely := ta.user(t, "Lonely")
	if got, err := ta.AppendFriendsJSON(ctx, nil, lonely); err != nil || string(got) != "[]" {
		t.Fatalf("no friends: %s, %v", got, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestFriendsCacheIsServedAndInvalidated(t *testing.T) {
	ta := cachedApp(t, Config{})
	ctx := context.Background()
	ada := ta.user(t, "Ada")
	bob := ta.friendOf(t, "Bob", ada)
	cy := ta.friendOf(t, "Cy", ada, bob)
	if got := names(friendsAnswer(t, ta.App, ada)); got != "Bob,Cy" {
		t.Fatalf("ada's friends = %s", got)
	}
	friendsAnswer(t, ta.App, bob)

	// Served from the cache: a change the services did not make is not seen.
	renameInStore(t, ta, cy, "Cyrus")
	if got := names(cachedAnswer(t, ta.App, ada)); got != "Bob,Cy" {
		t.Fatalf("ada's cached friends = %s, want the cached Bob,Cy", got)
	}

	t.Run("rename", func(t *testing.T) {
		if _, err := ta.UpdateMe(ctx, bob, ProfileUpdate{Name: ptr("Zed")}); err != nil {
			t.Fatal(err)
		}
		if got := names(friendsAnswer(t, ta.App, ada)); got != "Cyrus,Zed" {
			t.Fatalf("ada's friends after Bob became Zed = %s", got)
		}
		if got := names(friendsAnswer(t, ta.App, cy)); got != "Ada,Zed" {
			t.Fatalf("cy's friends after Bob became Zed = %s", got)
		}
	})
	t.Run("status message", func(t *testing.T) {
		cachedAnswer(t, ta.App, bob) // cached before Cy's name changed in the store
		if _, err := ta.UpdateMe(ctx, ada, ProfileUpdate{StatusMessage: ptr("away")}); err != nil {
			t.Fatal(err)
		}
		if fs := friendsAnswer(t, ta.App, bob); fs[0].User.StatusMessage != "away" {
			t.Fatalf("bob's friends = %+v", fs)
		}
	})
	t.Run("avatar", func(t *testing.T) {
		friendsAnswer(t, ta.App, ada)
		if _, err := ta.SetAvatar(ctx, cy, bytes.NewReader(testImage(t, 8, 8, "png"))); err != nil {
			t.Fatal(err)
		}
		fs := friendsAnswer(t, ta.App, ada)
		if fs[0].User.Name != "Cyrus" || fs[0].User.AvatarURL == "" {
			t.Fatalf("ada's friends after Cy's avatar = %+v", fs)
		}
		b, err := ta.Avatar(ctx, strings.TrimPrefix(fs[0].User.AvatarURL, AvatarPathPrefix))
		if err != nil {
			t.Fatalf("the listed avatar does not open: %v", err)
		}
		b.Close()
		if !strings.HasPrefix(b.ContentType, "image/") || b.Size == 0 {
			t.Fatalf("the listed avatar: %s, %d bytes", b.ContentType, b.Size)
		}
	})
	dee := ta.user(t, "Dee")
	t.Run("accept", func(t *testing.T) {
		friendsAnswer(t, ta.App, ada)
		friendsAnswer(t, ta.App, dee)
		r, err := ta.SendFriendRequest(ctx, dee, FriendRequestInput{UserID: ada})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ta.AcceptFriendRequest(ctx, ada, r.ID); err != nil {
			t.Fatal(err)
		}
		if got := names(friendsAnswer(t, ta.App, ada)); got != "Cyrus,Dee,Zed" {
			t.Fatalf("ada's friends after accepting Dee = %s", got)
		}
		if got := names(friendsAnswer(t, ta.App, dee)); got != "Ada" {
			t.Fatalf("dee's friends after Ada accepted = %s", got)
		}
	})
	t.Run("unfriend", func(t *testing.T) {
		if err := ta.Unfriend(ctx, dee, ada); err != nil {
			t.Fatal(err)
		}
		if got := names(friendsAnswer(t, ta.App, ada)); got != "Cyrus,Zed" {
			t.Fatalf("ada's friends after Dee unfriended her = %s", got)
		}
		if got := names(friendsAnswer(t, ta.App, dee)); got != "" {
			t.Fatalf("dee's friends after unfriending Ada = %s", got)
		}
	})
	t.Run("block and unblock", func(t *testing.T) {
		friendsAnswer(t, ta.App, cy)
		if err := ta.Block(ctx, ada, bob); err != nil {
			t.Fatal(err)
		}
		if got := names(friendsAnswer(t, ta.App, ada)); got != "Cyrus" {
			t.Fatalf("ada's friends after blocking Bob = %s", got)
		}
		if got := names(friendsAnswer(t, ta.App, bob)); got != "Cyrus" {
			t.Fatalf("bob's friends after Ada blocked him = %s", got)
		}
		if err := ta.Unblock(ctx, ada, bob); err != nil {
			t.Fatal(err)
		}
		if got := names(friendsAnswer(t, ta.App, ada)); got != "Cyrus" {
			t.Fatalf("ada's friends after unblocking Bob = %s (unblocking does not befriend)", got)
		}
		ta.befriend(t, bob, ada)
		if got := names(friendsAnswer(t, ta.App, bob)); got != "Ada,Cyrus" {
			t.Fatalf("bob's friends after befriending Ada again = %s", got)
		}
	})
}

func TestFriendsCachePresenceIsCurrent(t *testing.T) {
	ta := cachedApp(t, Config{})
	ctx := context.Background()
	ada := ta.user(t, "Ada")
	bob := ta.friendOf(t, "Bob", ada)
	if fs := friendsAnswer(t, ta.App, ada); fs[0].Presence.Online || fs[0].Presence.LastSeen != nil {
		t.Fatalf("bob never connected: %+v", fs[0].Presence)
	}
	ta.events.reset()
	renameInStore(t, ta, bob, "Bobby") // shows whether the next answers are cached
	if err := ta.Connected(ctx, bob, "c1"); err != nil {
		t.Fatal(err)
	}
	fs := cachedAnswer(t, ta.App, ada)
	if fs[0].User.Name != "Bob" || !fs[0].Presence.Online {
		t.Fatalf("after Bob connected: %+v", fs[0])
	}
	ta.clock.Advance(time.Second) // within the TTL
	if err := ta.Disconnected(ctx, bob, "c1"); err != nil {
		t.Fatal(err)
	}
	fs = cachedAnswer(t, ta.App, ada)
	if fs[0].User.Name != "Bob" || fs[0].Presence.Online || fs[0].Presence.LastSeen == nil ||
		!fs[0].Presence.LastSeen.Equal(ta.clock.Now().Truncate(time.Millisecond)) {
		t.Fatalf("after Bob disconnected: %+v", fs[0])
	}
	ta.events.none(t, friendsCacheEvent)
}

func TestFriendsCacheExpires(t *testing.T) {
	ta := cachedApp(t, Config{FriendsCacheTTL: 30 * time.Second})
	ada := ta.user(t, "Ada")
	bob := ta.friendOf(t, "Bob", ada)
	friendsAnswer(t, ta.App, ada)
	renameInStore(t, ta, bob, "Bobby")
	ta.clock.Advance(29 * time.Second)
	if got := names(cachedAnswer(t, ta.App, ada)); got != "Bob" {
		t.Fatalf("within the TTL: %s, want the cached Bob", got)
	}
	ta.clock.Advance(time.Second)
	if got := names(friendsAnswer(t, ta.App, ada)); got != "Bobby" {
		t.Fatalf("after the TTL: %s", got)
	}
}

func TestFriendsCacheIsBounded(t *testing.T) {
	const size = friendsCacheShards * 4 // four entries per shard: two lists of one friend
	ta := cachedApp(t, Config{FriendsCacheSize: size})
	hub := ta.user(t, "Hub")
	var users []string
	for range 60 {
		users = append(users, ta.friendOf(t, "U", hub))
	}
	for _, u := range users {
		friendsAnswer(t, ta.App, u)
	}
	c := ta.friendsCache
	if n := c.len(); n == 0 || n > size/2 {
		t.Fatalf("%d lists cached, want 1..%d", n, size/2)
	}
	for i := range c.shards {
		if s := c.shards[i].size; s > c.shards[i].maxSize {
			t.Fatalf("shard %d holds %d entries, bound %d", i, s, c.shards[i].maxSize)
		}
	}
	// The hub's list (61 entries) is larger than a shard: served, never cached.
	if got := len(friendsAnswer(t, ta.App, hub)); got != 60 {
		t.Fatalf("hub has %d friends", got)
	}
	renameInStore(t, ta, users[0], "V")
	if fs := cachedAnswer(t, ta.App, hub); fs[len(fs)-1].User.Name != "V" {
		t.Fatalf("the hub's list was cached: %+v", fs[len(fs)-1].User)
	}
	// Every evicted list answers right again.
	for _, u := range users {
		if fs := friendsAnswer(t, ta.App, u); len(fs) != 1 || fs[0].User.ID != hub {
			t.Fatalf("friends of %s = %+v", u, fs)
		}
	}
}

func TestFriendsCacheOffUntilStarted(t *testing.T) {
	ta := newTestApp(t, Config{})
	ada := ta.user(t, "Ada")
	bob := ta.friendOf(t, "Bob", ada)
	friendsAnswer(t, ta.App, ada)
	renameInStore(t, ta, bob, "Bobby")
	if got := names(cachedAnswer(t, ta.App, ada)); got != "Bobby" {
		t.Fatalf("without a subscription to other nodes' changes: %s", got)
	}
}

// TestFriendsCacheAcrossNodes runs two nodes on one store and one broker: a change made
// through one drops the lists cached by the other.
func TestFriendsCacheAcrossNodes(t *testing.T) {
	a := cachedApp(t, Config{})
	b, err := New(a.deps(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := b.StartFriendsCache(ctx); err != nil {
		t.Fatal(err)
	}
	ada := a.user(t, "Ada")
	bob := a.friendOf(t, "Bob", ada)
	cy := a.user(t, "Cy")
	friendsAnswer(t, b, ada)
	friendsAnswer(t, b, cy)
	renameInStore(t, a, bob, "Bobby")
	if got := names(cachedAnswer(t, b, ada)); got != "Bob" {
		t.Fatalf("the other node does not cache: %s", got)
	}

	if _, err := a.UpdateMe(context.Background(), bob, ProfileUpdate{Name: ptr("Zed")}); err != nil {
		t.Fatal(err)
	}
	if got := names(friendsAnswer(t, b, ada)); got != "Zed" {
		t.Fatalf("on the other node after the rename: %s", got)
	}
	a.befriend(t, ada, cy)
	if got := names(friendsAnswer(t, b, cy)); got != "Ada" {
		t.Fatalf("on the other node after befriending: %s", got)
	}
	if err := a.Block(context.Background(), cy, ada); err != nil {
		t.Fatal(err)
	}
	if got := names(friendsAnswer(t, b, ada)); got != "Zed" {
		t.Fatalf("on the other node after the block: %s", got)
	}
}
