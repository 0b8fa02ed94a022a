package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/client"
	"github.com/plop-chat/plop/internal/servertest"
	"github.com/plop-chat/plop/push"
	"github.com/plop-chat/plop/push/pushtest"
	"github.com/plop-chat/plop/server"
	"github.com/plop-chat/plop/sqlstore/sqlstoretest"
)

// These tests run real nodes whose FCM is pushtest's fake: the service-account grant, the
// bearer token and the message shape are checked as Google checks them, and each test counts
// what a device would have received.

// pushTuning shortens the worker's timings so that a test takes a second, not minutes.
var pushTuning = app.PushConfig{Delay: 300 * time.Millisecond, Cooldown: time.Minute, Poll: 50 * time.Millisecond}

// withFCM points a node at the fake FCM f.
func withFCM(tb testing.TB, f *pushtest.FCM) servertest.Option {
	tb.Helper()
	creds := f.CredentialsFile(tb)
	return func(c *server.Config) {
		c.FCMCredentials, c.FCMEndpoint, c.PushTuning = creds, f.URL, pushTuning
	}
}

// waitFor polls cond until it holds, failing the test after ten seconds.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// drained waits until the node's push outbox is empty: every queued message folded, every
// due notification sent. Nothing more will be pushed until the next message.
func drained(tb testing.TB, nodes ...*servertest.Server) {
	tb.Helper()
	waitFor(tb, "the push outbox to drain", func() bool {
		for _, n := range nodes {
			jobs, waiting, err := n.Node.PushWorker().Backlog(context.Background())
			if err != nil {
				tb.Fatal(err)
			}
			if jobs+waiting > 0 {
				return false
			}
		}
		return true
	})
}

// fcmDevice registers an FCM device with token for acct.
func fcmDevice(tb testing.TB, node *servertest.Server, acct servertest.Account, token string) string {
	tb.Helper()
	var out struct {
		Device struct {
			ID string `json:"id"`
		} `json:"device"`
	}
	node.MustJSON(tb, "POST", "/api/v1/devices", acct.AccessToken, map[string]string{"platform": "fcm", "token": token}, http.StatusCreated, &out)
	return out.Device.ID
}

// room creates a room as creator and returns its id.
func room(tb testing.TB, node *servertest.Server, creator servertest.Account, kind, name string, members ...servertest.Account) string {
	tb.Helper()
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	var out struct {
		Room struct {
			ID string `json:"id"`
		} `json:"room"`
	}
	status, body := node.Do(tb, "POST", "/api/v1/rooms", creator.AccessToken, map[string]any{"type": kind, "name": name, "member_ids": ids})
	if status != http.StatusCreated && status != http.StatusOK {
		tb.Fatalf("create room: %d %s", status, body)
	}
	if err := json.Unmarshal(body, &out); err != nil {
		tb.Fatal(err)
	}
	return out.Room.ID
}

// send posts a message as from.
func send(tb testing.TB, node *servertest.Server, from servertest.Account, roomID, body string) {
	tb.Helper()
	node.MustJSON(tb, "POST", "/api/v1/rooms/"+roomID+"/messages", from.AccessToken, map[string]string{"body": body}, http.StatusCreated, nil)
}

func TestPushBurstIsOneFCMRequest(t *testing.T) {
	f := pushtest.NewFCM(t)
	// A coalescing delay long enough for five sends on a loaded machine.
	node := servertest.Start(t, withFCM(t, f), func(c *server.Config) { c.PushTuning.Delay = time.Second })
	ana, ben := node.SignupVerified(t, "Ana"), node.SignupVerified(t, "Ben")
	node.MakeFriends(t, ana, ben)
	fcmDevice(t, node, ben, "ben-phone")
	r := room(t, node, ana, "direct", "", ben)
	for i := 1; i <= 5; i++ {
		send(t, node, ana, r, fmt.Sprintf("message %d", i))
	}
	waitFor(t, "a push to Ben's phone", func() bool { return len(f.SendsTo("ben-phone")) > 0 })
	drained(t, node)
	sends := f.SendsTo("ben-phone")
	if len(sends) != 1 {
		t.Fatalf("%d FCM requests for a burst of 5 messages, want 1", len(sends))
	}
	m := sends[0].Message
	if m.Notification["title"] != "Ana" || m.Notification["body"] != "message 5" {
		t.Errorf("notification %v", m.Notification)
	}
	if m.Data["room_id"] != r || m.Data["count"] != "5" || m.Data["seq"] != "5" {
		t.Errorf("data %v", m.Data)
	}
	if m.Android.CollapseKey != "room:"+r || m.APNS.Payload.APS.Badge != 5 || m.APNS.Headers["apns-collapse-id"] != "room:"+r {
		t.Errorf("collapse key %q, badge %d, apns headers %v", m.Android.CollapseKey, m.APNS.Payload.APS.Badge, m.APNS.Headers)
	}
	if f.Grants() != 1 {
		t.Errorf("%d OAuth grants, want 1", f.Grants())
	}
	// Ana, the sender, is notified of nothing.
	if len(f.Sends()) != 1 {
		t.Errorf("%d FCM requests in all, want 1", len(f.Sends()))
	}
}

func TestPushSparesOnlineMutedAndBlocking(t *testing.T) {
	f := pushtest.NewFCM(t)
	// A short cooldown: the member who is away is notified of the second message too.
	node := servertest.Start(t, withFCM(t, f), func(c *server.Config) { c.PushTuning.Cooldown = 500 * time.Millisecond })
	ctx := context.Background()
	ana := node.SignupVerified(t, "Ana")
	others := map[string]servertest.Account{}
	for _, name := range []string{"Away", "Online", "Muted", "Blocking"} {
		others[name] = node.SignupVerified(t, name)
		node.MakeFriends(t, ana, others[name])
		fcmDevice(t, node, others[name], "token-"+name)
	}
	g := room(t, node, ana, "group", "Hiking", others["Away"], others["Online"], others["Muted"], others["Blocking"])

	conn, err := client.DialSTOMP(ctx, node.WSURL, others["Online"].AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	node.MustJSON(t, "PATCH", "/api/v1/rooms/"+g, others["Muted"].AccessToken, map[string]bool{"muted": true}, http.StatusOK, nil)
	node.MustJSON(t, "PUT", "/api/v1/blocks/"+ana.ID, others["Blocking"].AccessToken, nil, http.StatusNoContent, nil)

	send(t, node, ana, g, "who is in for Sunday?")
	waitFor(t, "a push to the member who is away", func() bool { return len(f.SendsTo("token-Away")) > 0 })
	drained(t, node)
	for name := range others {
		want := 0
		if name == "Away" {
			want = 1
		}
		if got := len(f.SendsTo("token-" + name)); got != want {
			t.Errorf("%s got %d pushes, want %d", name, got, want)
		}
	}
	if m := f.SendsTo("token-Away")[0].Message; m.Notification["title"] != "Ana in Hiking" {
		t.Errorf("title %q", m.Notification["title"])
	}

	// The blocked sender's messages keep notifying nobody who blocks them; once the online
	// member leaves, they are notified like anyone away.
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the online member to go offline", func() bool {
		var out struct {
			Presence []struct {
				Online bool `json:"online"`
			} `json:"presence"`
		}
		node.MustJSON(t, "GET", "/api/v1/presence?user_ids="+others["Online"].ID, ana.AccessToken, nil, http.StatusOK, &out)
		return len(out.Presence) == 1 && !out.Presence[0].Online
	})
	send(t, node, ana, g, "still nobody?")
	waitFor(t, "a push to the member who left", func() bool { return len(f.SendsTo("token-Online")) > 0 })
	drained(t, node)
	if n := len(f.SendsTo("token-Blocking")) + len(f.SendsTo("token-Muted")); n != 0 {
		t.Errorf("%d pushes to the muted and the blocking member", n)
	}
}

func TestPushRemovesUnregisteredDevice(t *testing.T) {
	f := pushtest.NewFCM(t)
	node := servertest.Start(t, withFCM(t, f))
	ana, ben := node.SignupVerified(t, "Ana"), node.SignupVerified(t, "Ben")
	node.MakeFriends(t, ana, ben)
	old := fcmDevice(t, node, ben, "uninstalled-app")
	current := fcmDevice(t, node, ben, "current-app")
	f.Unregister("uninstalled-app")
	r := room(t, node, ana, "direct", "", ben)
	send(t, node, ana, r, "hello")
	waitFor(t, "a push to the current app", func() bool { return len(f.SendsTo("current-app")) > 0 })
	drained(t, node)

	var out struct {
		Devices []struct {
			ID string `json:"id"`
		} `json:"devices"`
	}
	node.MustJSON(t, "GET", "/api/v1/devices", ben.AccessToken, nil, http.StatusOK, &out)
	var ids []string
	for _, d := range out.Devices {
		ids = append(ids, d.ID)
	}
	if !slices.Equal(ids, []string{current}) {
		t.Fatalf("devices after FCM said %s is unregistered: %v, want only %s", old, ids, current)
	}
}

// TestPushSurvivesACrashAfterCommit stores messages on a node whose push worker never runs,
// stops that node, and starts another on the same data: the notifications are delivered.
func TestPushSurvivesACrashAfterCommit(t *testing.T) {
	f := pushtest.NewFCM(t)
	dir := t.TempDir()
	first := servertest.Start(t, withFCM(t, f), func(c *server.Config) { c.DataDir, c.PushWorkers = dir, 0 })
	ana, ben := first.SignupVerified(t, "Ana"), first.SignupVerified(t, "Ben")
	first.MakeFriends(t, ana, ben)
	fcmDevice(t, first, ben, "ben-phone")
	r := room(t, first, ana, "direct", "", ben)
	for i := 1; i <= 3; i++ {
		send(t, first, ana, r, fmt.Sprintf("message %d", i))
	}
	if err := first.Node.Close(); err != nil { // the node goes away with three pushes owed
		t.Fatal(err)
	}
	if n := len(f.Sends()); n != 0 {
		t.Fatalf("%d pushes from a node without a push worker", n)
	}

	second := servertest.Start(t, withFCM(t, f), func(c *server.Config) { c.DataDir = dir })
	waitFor(t, "the owed push", func() bool { return len(f.SendsTo("ben-phone")) > 0 })
	drained(t, second)
	sends := f.SendsTo("ben-phone")
	if len(sends) != 1 || sends[0].Message.Data["count"] != "3" || sends[0].Message.Notification["body"] != "message 3" {
		t.Fatalf("after the restart: %+v", sends)
	}
}

// TestPushTwoNodesNeverSendTwice runs two nodes with push workers on one MariaDB database and
// sends through both: no notification is sent twice, and the last one of each room counts
// every message.
func TestPushTwoNodesNeverSendTwice(t *testing.T) {
	f := pushtest.NewFCM(t)
	dbURL := sqlstoretest.MySQLURL(t)
	keyFile := filepath.Join(t.TempDir(), "jwt.pem") // a token of one node is good on the other
	shared := func(c *server.Config) {
		c.DatabaseURL, c.JWTKeyFile = dbURL, keyFile
		c.PushTuning.Cooldown = 200 * time.Millisecond // the group's messages may take several pushes
	}
	nodes := []*servertest.Server{
		servertest.Start(t, withFCM(t, f), shared, func(c *server.Config) { c.NodeID = "node-a" }),
		servertest.Start(t, withFCM(t, f), shared, func(c *server.Config) { c.NodeID = "node-b" }),
	}
	a := nodes[0]
	ana := a.SignupVerified(t, "Ana")
	const people = 8
	var group []servertest.Account
	direct := map[string]string{}
	for i := range people {
		p := a.SignupVerified(t, fmt.Sprintf("Person %d", i))
		a.MakeFriends(t, ana, p)
		fcmDevice(t, a, p, p.ID)
		direct[p.ID] = room(t, a, ana, "direct", "", p)
		group = append(group, p)
	}
	g := room(t, a, ana, "group", "Everyone", group...)
	// Messages go through both nodes: each node's worker is woken by its own sends and polls
	// for the others', so both claim from the one queue.
	for i, p := range group {
		send(t, nodes[i%2], ana, direct[p.ID], "just you")
		send(t, nodes[(i+1)%2], ana, g, fmt.Sprintf("all of you %d", i))
	}
	want := map[string]int{g: people} // room → messages, the last push's count
	for _, p := range group {
		want[direct[p.ID]] = 1
	}
	last := func(p servertest.Account, roomID string) (seqs []string, count string) {
		for _, s := range f.SendsTo(p.ID) {
			if s.Message.Data["room_id"] == roomID {
				seqs, count = append(seqs, s.Message.Data["seq"]), s.Message.Data["count"]
			}
		}
		return seqs, count
	}
	waitFor(t, "every message counted in a push", func() bool {
		for _, p := range group {
			for _, r := range []string{direct[p.ID], g} {
				if _, count := last(p, r); count != fmt.Sprint(want[r]) {
					return false
				}
			}
		}
		return true
	})
	drained(t, nodes...)
	for _, p := range group {
		for _, r := range []string{direct[p.ID], g} {
			seqs, count := last(p, r)
			distinct := map[string]bool{}
			for _, s := range seqs {
				distinct[s] = true
			}
			if count != fmt.Sprint(want[r]) || len(distinct) != len(seqs) || len(seqs) > want[r] {
				t.Errorf("%s, room %s: pushes for seqs %v, the last counting %s; want each seq at most once and a last count of %d",
					p.Name, r, seqs, count, want[r])
			}
		}
	}
}

func TestVAPIDKey(t *testing.T) {
	dir := t.TempDir()
	node := servertest.Start(t, func(c *server.Config) { c.DataDir = dir })
	ana := node.SignupVerified(t, "Ana")
	var out struct {
		PublicKey string `json:"public_key"`
	}
	node.MustJSON(t, "GET", "/api/v1/push/vapid-key", ana.AccessToken, nil, http.StatusOK, &out)
	v, err := push.LoadOrCreateVAPID(filepath.Join(dir, "keys", "vapid.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if out.PublicKey == "" || out.PublicKey != v.PublicKey() {
		t.Fatalf("served key %q, the key file's is %q", out.PublicKey, v.PublicKey())
	}
	if status, _ := node.Do(t, "GET", "/api/v1/push/vapid-key", "", nil); status != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", status)
	}
}
