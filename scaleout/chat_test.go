package scaleout

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/client"
)

// TestChatAcrossNodes has three friends connected to three different nodes, through nginx,
// chat in a direct room and in a group: each gets the others' messages, typing and read
// receipts, and sees the others come online and go offline.
func TestChatAcrossNodes(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	alice, bob, carol := c.signup(t, "Alice"), c.signup(t, "Bob"), c.signup(t, "Carol")
	c.befriend(t, alice, bob)
	c.befriend(t, alice, carol)
	c.befriend(t, bob, carol)

	subscribe := func(who *user, conn *client.STOMPConn) *client.Subscription {
		t.Helper()
		sub, err := conn.Subscribe(ctx, client.UserQueue)
		if err != nil {
			t.Fatalf("%s subscribes: %v", who.Name, err)
		}
		return sub
	}
	aliceWS := c.dialOn(t, alice, 0)
	aq := subscribe(alice, aliceWS)
	bobWS := c.dialOn(t, bob, 1)
	bq := subscribe(bob, bobWS)

	// Alice, on node 1, hears that Bob came online on node 2, and every node says so.
	awaitEvent(t, "alice", aq, "presence of bob online", isPresence(bob.ID, true))
	for range len(c.nodes) { // round-robin: each node answers once
		ps, err := alice.API.Presence(ctx, bob.ID, carol.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 2 || !ps[0].Online || ps[1].Online {
			t.Fatalf("presence of bob (connected) and carol (not yet): %+v", ps)
		}
	}
	carolWS := c.dialOn(t, carol, 2)
	cq := subscribe(carol, carolWS)
	awaitEvent(t, "alice", aq, "presence of carol online", isPresence(carol.ID, true))
	awaitEvent(t, "bob", bq, "presence of carol online", isPresence(carol.ID, true))

	send := func(t *testing.T, who *user, conn *client.STOMPConn, roomID, body string) client.Receipt {
		t.Helper()
		r, err := conn.SendMessage(ctx, roomID, app.MessageInput{Body: body, ClientMsgID: uuid.NewString()})
		if err != nil {
			t.Fatalf("%s sends %q: %v", who.Name, body, err)
		}
		return r
	}

	t.Run("direct room", func(t *testing.T) {
		dm, err := alice.API.CreateDirectRoom(ctx, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		r := send(t, alice, aliceWS, dm.ID, "hi Bob, from node 1")
		got := awaitEvent(t, "bob", bq, "alice's message", isMessage(dm.ID, "hi Bob, from node 1"))
		if got.Message.Seq != r.Seq || got.Message.SenderID != alice.ID || got.Message.ID != r.MessageID {
			t.Fatalf("bob got %+v, alice's receipt says %+v", got.Message, r)
		}
		if err := bobWS.Typing(ctx, dm.ID, true); err != nil {
			t.Fatal(err)
		}
		awaitEvent(t, "alice", aq, "bob typing", isTyping(dm.ID, bob.ID))
		if err := bobWS.MarkRead(ctx, dm.ID, r.Seq); err != nil {
			t.Fatal(err)
		}
		awaitEvent(t, "alice", aq, "bob's read receipt", isRead(dm.ID, bob.ID, r.Seq))
		send(t, bob, bobWS, dm.ID, "hello Alice, from node 2")
		awaitEvent(t, "alice", aq, "bob's reply", isMessage(dm.ID, "hello Alice, from node 2"))
	})

	t.Run("group of three", func(t *testing.T) {
		g, err := alice.API.CreateGroupRoom(ctx, "Trio", bob.ID, carol.ID)
		if err != nil {
			t.Fatal(err)
		}
		people := []struct {
			u    *user
			conn *client.STOMPConn
			q    *client.Subscription
		}{{alice, aliceWS, aq}, {bob, bobWS, bq}, {carol, carolWS, cq}}
		var last client.Receipt
		for _, from := range people {
			body := "hello from " + from.u.Name
			last = send(t, from.u, from.conn, g.ID, body)
			for _, to := range people {
				if to.u != from.u {
					awaitEvent(t, to.u.Name, to.q, from.u.Name+"'s group message", isMessage(g.ID, body))
				}
			}
		}
		if err := carolWS.Typing(ctx, g.ID, true); err != nil {
			t.Fatal(err)
		}
		awaitEvent(t, "alice", aq, "carol typing", isTyping(g.ID, carol.ID))
		awaitEvent(t, "bob", bq, "carol typing", isTyping(g.ID, carol.ID))
		if err := aliceWS.MarkRead(ctx, g.ID, last.Seq); err != nil {
			t.Fatal(err)
		}
		awaitEvent(t, "bob", bq, "alice's read receipt", isRead(g.ID, alice.ID, last.Seq))
		awaitEvent(t, "carol", cq, "alice's read receipt", isRead(g.ID, alice.ID, last.Seq))

		// The history is the same on every node: three messages, seq 1 to 3.
		for range len(c.nodes) {
			msgs, err := bob.API.Messages(ctx, g.ID, 0, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 3 || msgs[0].Seq != 1 || msgs[2].Seq != 3 || msgs[2].Body != "hello from Carol" {
				t.Fatalf("group history: %+v", msgs)
			}
		}
	})

	t.Run("client address through the proxy", func(t *testing.T) {
		// nginx appends the address it sees to X-Forwarded-For and the node trusts only that
		// last entry: a client cannot pass itself off as another address to the rate limits.
		rid := "xff-" + uuid.NewString()
		req, err := http.NewRequestWithContext(ctx, "GET", c.URL()+"/api/v1/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+alice.Tokens.AccessToken)
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		req.Header.Set("X-Request-ID", rid)
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Request-ID") != rid {
			t.Fatalf("GET /me through nginx: %d, X-Request-ID %q, want 200 and %q", resp.StatusCode, resp.Header.Get("X-Request-ID"), rid)
		}
		_, line, err := c.requestLog(rid)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(line, `"client":"127.0.0.1"`) {
			t.Fatalf("the node logged the request as from another client than nginx saw: %s", line)
		}
	})

	// Carol leaves: her friends on the other nodes see her go offline, with a last-seen time.
	if err := carolWS.Close(); err != nil {
		t.Fatal(err)
	}
	awaitEvent(t, "alice", aq, "presence of carol offline", isPresence(carol.ID, false))
	off := awaitEvent(t, "bob", bq, "presence of carol offline", isPresence(carol.ID, false))
	if off.Presence.LastSeen == nil {
		t.Fatalf("carol's offline presence has no last_seen: %+v", off.Presence)
	}
	waitFor(t, 10*time.Second, "carol offline with a last-seen time, alice online", nil, func() error {
		ps, err := bob.API.Presence(ctx, carol.ID, alice.ID)
		if err != nil {
			return err
		}
		if len(ps) != 2 || ps[0].Online || ps[0].LastSeen == nil || !ps[1].Online {
			return fmt.Errorf("presence: %+v", ps)
		}
		return nil
	})
}
