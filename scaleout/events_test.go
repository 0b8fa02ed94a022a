package scaleout

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
)

// eventBody is the union of the event bodies the tests look at.
type eventBody struct {
	Type     string        `json:"type"`
	RoomID   string        `json:"room_id"`
	UserID   string        `json:"user_id"`
	Seq      int64         `json:"seq"`
	Typing   bool          `json:"typing"`
	Message  plop.Message  `json:"message"`
	Presence plop.Presence `json:"presence"`
}

func decode(tb testing.TB, ev client.Event) eventBody {
	tb.Helper()
	var b eventBody
	if err := json.Unmarshal(ev.Body, &b); err != nil {
		tb.Fatalf("event %s: %v: %s", ev.Type, err, ev.Body)
	}
	return b
}

// awaitEvent returns the first event on sub that match accepts, skipping the others, and
// fails the test after 10 seconds or when the connection ends.
func awaitEvent(tb testing.TB, who string, sub *client.Subscription, what string, match func(eventBody) bool) eventBody {
	tb.Helper()
	timeout := time.After(10 * time.Second)
	var skipped []string
	for {
		select {
		case ev, ok := <-sub.C:
			if !ok {
				tb.Fatalf("%s: connection ended while waiting for %s", who, what)
			}
			b := decode(tb, ev)
			if match(b) {
				return b
			}
			skipped = append(skipped, fmt.Sprintf("%s %s", b.Type, ev.Body))
		case <-timeout:
			tb.Fatalf("%s: no %s within 10s; got meanwhile: %v", who, what, skipped)
		}
	}
}

func isMessage(roomID, body string) func(eventBody) bool {
	return func(b eventBody) bool {
		return b.Type == plop.EventMessageCreated && b.RoomID == roomID && b.Message.Body == body
	}
}

func isTyping(roomID, userID string) func(eventBody) bool {
	return func(b eventBody) bool {
		return b.Type == plop.EventTyping && b.RoomID == roomID && b.UserID == userID && b.Typing
	}
}

func isRead(roomID, userID string, seq int64) func(eventBody) bool {
	return func(b eventBody) bool {
		return b.Type == plop.EventRoomRead && b.RoomID == roomID && b.UserID == userID && b.Seq == seq
	}
}

func isPresence(userID string, online bool) func(eventBody) bool {
	return func(b eventBody) bool {
		return b.Type == plop.EventPresence && b.Presence.UserID == userID && b.Presence.Online == online
	}
}
