package realtime_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
	"github.com/plop-chat/plop/realtime"
)

func TestTypingIsRelayedToOthersButNotEchoed(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana, bo := n.newUser(t, "Ana"), n.newUser(t, "Bo")
	room := n.direct(t, ana, bo)
	a1, a2, cb := n.dial(t, ana), n.dial(t, ana), n.dial(t, bo)
	t1 := subscribe(t, a1, client.RoomTopic(room))
	t2 := subscribe(t, a2, client.RoomTopic(room))
	tb := subscribe(t, cb, client.RoomTopic(room))
	q1 := subscribe(t, a1, client.UserQueue)

	if err := a1.Typing(context.Background(), room, true); err != nil {
		t.Fatal(err)
	}
	var typing struct {
		Type   string `json:"type"`
		RoomID string `json:"room_id"`
		UserID string `json:"user_id"`
		Typing bool   `json:"typing"`
	}
	for _, s := range []*client.Subscription{tb, t2} {
		ev := next(t, s)
		if err := ev.Decode(&typing); err != nil || typing.Type != plop.EventTyping || typing.UserID != ana.ID || !typing.Typing || typing.RoomID != room {
			t.Fatalf("got %s (%v), want Ana typing", ev.Body, err)
		}
	}
	// The typist's own connection hears the message that follows, and no typing before it,
	// neither on the topic nor on its personal queue.
	r := send(t, a1, room, "done typing", "t-1")
	if m := decodeMessage(t, next(t, t1)); m.ID != r.MessageID {
		t.Fatalf("typist's topic got %+v", m)
	}
	if ev := nextOfType(t, q1, plop.EventMessageCreated); decodeMessage(t, ev).ID != r.MessageID {
		t.Fatalf("typist's queue got %s", ev.Body)
	}
	// The queue may carry presence events, but never the typist's own indicator: it had
	// none before the message above, and nextOfType would have skipped it, so look again.
	if err := a1.Typing(context.Background(), room, false); err != nil {
		t.Fatal(err)
	}
	r = send(t, a1, room, "again", "t-2")
	for {
		ev := next(t, q1)
		if ev.Type == plop.EventTyping {
			t.Fatalf("the typist's queue echoed %s", ev.Body)
		}
		if ev.Type == plop.EventMessageCreated && decodeMessage(t, ev).ID == r.MessageID {
			break
		}
	}
}

func TestReadReceiptsReachTheRoom(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana, bo := n.newUser(t, "Ana"), n.newUser(t, "Bo")
	room := n.direct(t, ana, bo)
	ca, cb := n.dial(t, ana), n.dial(t, bo)
	topicA := subscribe(t, ca, client.RoomTopic(room))
	send(t, ca, room, "one", "r-1")
	r := send(t, ca, room, "two", "r-2")
	ctx := context.Background()
	if rm, err := n.App.Room(ctx, bo.ID, room); err != nil || rm.UnreadCount != 2 {
		t.Fatalf("Bo's unread before reading: %d %v", rm.UnreadCount, err)
	}
	if err := cb.MarkRead(ctx, room, r.Seq); err != nil {
		t.Fatal(err)
	}
	ev := nextOfType(t, topicA, plop.EventRoomRead)
	var read struct {
		UserID string `json:"user_id"`
		Seq    int64  `json:"seq"`
	}
	if err := ev.Decode(&read); err != nil || read.UserID != bo.ID || read.Seq != r.Seq {
		t.Fatalf("read event %s", ev.Body)
	}
	if rm, err := n.App.Room(ctx, bo.ID, room); err != nil || rm.UnreadCount != 0 {
		t.Fatalf("Bo's unread after reading: %d %v", rm.UnreadCount, err)
	}
}

type presenceEvent struct {
	Type     string        `json:"type"`
	Presence plop.Presence `json:"presence"`
}

func nextPresence(tb testing.TB, s *client.Subscription) plop.Presence {
	tb.Helper()
	var p presenceEvent
	if err := nextOfType(tb, s, plop.EventPresence).Decode(&p); err != nil {
		tb.Fatal(err)
	}
	return p.Presence
}

func TestPresenceGoesToFriendsOnConnectAndAfterTheGrace(t *testing.T) {
	n := startNode(t, realtime.Options{PresenceGrace: 300 * time.Millisecond})
	ana, bo := n.newUser(t, "Ana"), n.newUser(t, "Bo")
	n.befriend(t, ana, bo)
	cb := n.dial(t, bo)
	queue := subscribe(t, cb, client.UserQueue)

	ca := n.dial(t, ana)
	if p := nextPresence(t, queue); p.UserID != ana.ID || !p.Online {
		t.Fatalf("on connect Bo got %+v", p)
	}
	closed := time.Now()
	if err := ca.Close(); err != nil {
		t.Fatal(err)
	}
	p := nextPresence(t, queue)
	if p.UserID != ana.ID || p.Online || p.LastSeen == nil {
		t.Fatalf("on disconnect Bo got %+v", p)
	}
	if waited := time.Since(closed); waited < 300*time.Millisecond {
		t.Fatalf("offline after %v, before the grace", waited)
	}
}

func TestQuickReconnectDoesNotFlapPresence(t *testing.T) {
	n := startNode(t, realtime.Options{PresenceGrace: time.Second})
	ana, bo := n.newUser(t, "Ana"), n.newUser(t, "Bo")
	room := n.direct(t, ana, bo)
	cb := n.dial(t, bo)
	queue := subscribe(t, cb, client.UserQueue)

	a1 := n.dial(t, ana)
	if p := nextPresence(t, queue); !p.Online {
		t.Fatalf("on connect Bo got %+v", p)
	}
	first := a1.Session()
	if err := a1.Close(); err != nil {
		t.Fatal(err)
	}
	a2 := n.dial(t, ana) // within the grace
	eventually(t, "the first connection's Disconnected", func() bool { return n.Calls.wasDisconnected(first) })

	// Nothing about Ana's presence reached Bo: the next event in his queue is her message.
	r := send(t, a2, room, "still here", "p-1")
	ev := next(t, queue)
	if ev.Type != plop.EventMessageCreated || decodeMessage(t, ev).ID != r.MessageID {
		t.Fatalf("Bo's queue got %s before Ana's message", ev.Body)
	}
	if err := a2.Close(); err != nil {
		t.Fatal(err)
	}
	if p := nextPresence(t, queue); p.Online || p.UserID != ana.ID {
		t.Fatalf("after the last disconnect Bo got %+v", p)
	}
}

func TestDisconnectGetsItsReceiptThenTheClose(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana := n.newUser(t, "Ana")
	c := n.dial(t, ana)
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if err := ended(t, c); !errors.Is(err, client.ErrSTOMPClosed) {
		t.Fatalf("ended with %v", err)
	}
	if _, err := c.Subscribe(context.Background(), client.UserQueue); !errors.Is(err, client.ErrSTOMPClosed) {
		t.Fatalf("a call after Close: %v", err)
	}
}
