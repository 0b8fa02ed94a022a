package realtime_test

import (
	"context"
	"errors"
	"testing"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/client"
	"github.com/plop-chat/plop/realtime"
)

// wantSTOMPError fails unless err is an ERROR frame with code.
func wantSTOMPError(tb testing.TB, err error, code string) *client.STOMPError {
	tb.Helper()
	var se *client.STOMPError
	if !errors.As(err, &se) || se.Code != code {
		tb.Fatalf("got %v, want an ERROR frame %s", err, code)
	}
	return se
}

func TestOutsidersAreRefusedAndDisconnected(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana, bo, eve := n.newUser(t, "Ana"), n.newUser(t, "Bo"), n.newUser(t, "Eve")
	room := n.direct(t, ana, bo)
	ctx := context.Background()

	t.Run("subscribe to a room of others", func(t *testing.T) {
		c := n.dial(t, eve)
		_, err := c.Subscribe(ctx, client.RoomTopic(room))
		wantSTOMPError(t, err, plop.ENotFound)
		wantSTOMPError(t, ended(t, c), plop.ENotFound)
	})
	t.Run("send to a room of others", func(t *testing.T) {
		c := n.dial(t, eve)
		_, err := c.SendMessage(ctx, room, app.MessageInput{Body: "let me in", ClientMsgID: "e-1"})
		se := wantSTOMPError(t, err, plop.ENotFound)
		if se.ReceiptID == "" {
			t.Errorf("the ERROR does not name the receipt of the SEND")
		}
		wantSTOMPError(t, ended(t, c), plop.ENotFound)
		msgs, err := n.App.Messages(ctx, ana.ID, room, 0, 0, 10)
		if err != nil || len(msgs) != 0 {
			t.Fatalf("history %v %v, want empty", msgs, err)
		}
	})
	t.Run("type and read in a room of others", func(t *testing.T) {
		c := n.dial(t, eve)
		wantSTOMPError(t, c.Typing(ctx, room, true), plop.ENotFound)
		c = n.dial(t, eve)
		wantSTOMPError(t, c.MarkRead(ctx, room, 1), plop.ENotFound)
	})
	t.Run("another user's queue", func(t *testing.T) {
		for _, dest := range []string{"/user/" + bo.ID + "/queue/events", "/queue/" + bo.ID, "/user/queue/events/" + bo.ID} {
			c := n.dial(t, eve)
			_, err := c.Subscribe(ctx, dest)
			wantSTOMPError(t, err, plop.ENotFound)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		_, err := client.DialSTOMP(ctx, n.WSURL, "forged")
		wantSTOMPError(t, err, plop.EUnauthenticated)
	})
}

func TestPersonalQueueCarriesOnlyTheUsersOwnEvents(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana, bo, cy := n.newUser(t, "Ana"), n.newUser(t, "Bo"), n.newUser(t, "Cy")
	boCy := n.direct(t, bo, cy)
	anaBo := n.direct(t, ana, bo)
	ca, cb := n.dial(t, ana), n.dial(t, bo)
	queueA := subscribe(t, ca, client.UserQueue)

	// Bo and Cy talk, then Ana gets a message: it is the first thing in her queue after
	// the presence of her contact Bo, whose connection may be announced after she subscribed.
	send(t, cb, boCy, "just between us", "bc-1")
	r := send(t, cb, anaBo, "hi Ana", "ab-1")
	ev := next(t, queueA)
	for ev.Type == plop.EventPresence {
		ev = next(t, queueA)
	}
	if m := decodeMessage(t, ev); m.ID != r.MessageID {
		t.Fatalf("Ana's queue first carried %s", ev.Body)
	}
}

func TestRemovedMemberStopsHearingTheRoom(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana, bo, cy := n.newUser(t, "Ana"), n.newUser(t, "Bo"), n.newUser(t, "Cy")
	room := n.group(t, ana, bo, cy)
	ca, cb, cc := n.dial(t, ana), n.dial(t, bo), n.dial(t, cy)
	topicB := subscribe(t, cb, client.RoomTopic(room))
	topicC := subscribe(t, cc, client.RoomTopic(room))
	ctx := context.Background()

	if err := n.App.RemoveMember(ctx, ana.ID, room, bo.ID); err != nil {
		t.Fatal(err)
	}
	nextOfType(t, topicB, plop.EventMemberRemoved)
	nextOfType(t, topicC, plop.EventMemberRemoved)
	send(t, ca, room, "Bo is gone", "gone-1")
	send(t, ca, room, "really", "gone-2")
	if m := decodeMessage(t, nextOfType(t, topicC, plop.EventMessageCreated)); m.Body != "Bo is gone" {
		t.Fatalf("Cy got %+v", m)
	}
	nextOfType(t, topicC, plop.EventMessageCreated)
	// Both messages have been fanned out. A round trip on Bo's connection puts its RECEIPT
	// behind anything queued for Bo by then.
	subscribe(t, cb, client.UserQueue)
	select {
	case ev, ok := <-topicB.C:
		if ok {
			t.Fatalf("Bo still hears the room: %s", ev.Body)
		}
	default:
	}
	// And he cannot subscribe again.
	_, err := cb.Subscribe(ctx, client.RoomTopic(room))
	wantSTOMPError(t, err, plop.ENotFound)
}
