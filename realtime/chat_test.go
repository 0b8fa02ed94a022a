package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/client"
	"github.com/plop-chat/plop/realtime"
)

// messageEvent is the body of message.created.
type messageEvent struct {
	Type    string       `json:"type"`
	RoomID  string       `json:"room_id"`
	Message plop.Message `json:"message"`
}

func decodeMessage(tb testing.TB, ev client.Event) plop.Message {
	tb.Helper()
	if ev.Type != plop.EventMessageCreated {
		tb.Fatalf("event type %q, want %s: %s", ev.Type, plop.EventMessageCreated, ev.Body)
	}
	var m messageEvent
	if err := ev.Decode(&m); err != nil {
		tb.Fatalf("decode %s: %v", ev.Body, err)
	}
	return m.Message
}

func send(tb testing.TB, c *client.STOMPConn, roomID, body, clientMsgID string) client.Receipt {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.SendMessage(ctx, roomID, app.MessageInput{Body: body, ClientMsgID: clientMsgID})
	if err != nil {
		tb.Fatalf("send %q: %v", body, err)
	}
	return r
}

func TestDirectChatDeliversToBothSidesWithHeaders(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana, bo := n.newUser(t, "Ana"), n.newUser(t, "Bo")
	room := n.direct(t, ana, bo)

	ca, cb := n.dial(t, ana), n.dial(t, bo)
	if cb.UserID() != bo.ID || cb.Version() != "1.2" || cb.Session() == "" {
		t.Fatalf("CONNECTED said user %q version %q session %q", cb.UserID(), cb.Version(), cb.Session())
	}
	topicA := subscribe(t, ca, client.RoomTopic(room))
	topicB := subscribe(t, cb, client.RoomTopic(room))
	queueB := subscribe(t, cb, client.UserQueue)

	r := send(t, ca, room, "hello Bo", "m-1")
	if r.Seq != 1 || r.RoomID != room || r.MessageID == "" {
		t.Fatalf("receipt %+v, want seq 1 in room %s with a message id", r, room)
	}

	ev := next(t, topicB)
	m := decodeMessage(t, ev)
	if m.Body != "hello Bo" || m.SenderID != ana.ID || m.Seq != 1 || m.ID != r.MessageID {
		t.Fatalf("Bo got %+v", m)
	}
	want := map[string]string{
		"destination":    client.RoomTopic(room),
		"content-type":   "application/json",
		"content-length": strconv.Itoa(len(ev.Body)),
		"room-id":        room,
		"seq":            "1",
	}
	for k, v := range want {
		if ev.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, ev.Headers[k], v)
		}
	}
	if ev.Headers["subscription"] == "" || ev.Headers["message-id"] == "" {
		t.Errorf("MESSAGE lacks subscription or message-id: %v", ev.Headers)
	}
	if ev.RoomID != room || ev.Seq != 1 {
		t.Errorf("event room %q seq %d", ev.RoomID, ev.Seq)
	}

	// The personal queue carries the same event, under its own destination.
	qev := nextOfType(t, queueB, plop.EventMessageCreated)
	if qev.Headers["destination"] != client.UserQueue || decodeMessage(t, qev).ID != r.MessageID {
		t.Fatalf("queue event %v %s", qev.Headers, qev.Body)
	}
	if qev.Headers["message-id"] == ev.Headers["message-id"] {
		t.Errorf("two MESSAGE frames share message-id %s", ev.Headers["message-id"])
	}
	// The sender hears its own message on the topic too.
	if got := decodeMessage(t, next(t, topicA)); got.ID != r.MessageID {
		t.Fatalf("Ana got %+v", got)
	}

	// And Bo answers.
	r2 := send(t, cb, room, "hi Ana", "m-2")
	if got := decodeMessage(t, next(t, topicA)); got.Body != "hi Ana" || got.Seq != 2 || r2.Seq != 2 {
		t.Fatalf("Ana got %+v, receipt %+v", got, r2)
	}
}

func TestGroupOfThreeEveryoneGetsEveryMessageInOrder(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana, bo, cy := n.newUser(t, "Ana"), n.newUser(t, "Bo"), n.newUser(t, "Cy")
	room := n.group(t, ana, bo, cy)
	users := []user{ana, bo, cy}
	conns := make([]*client.STOMPConn, 3)
	subs := make([]*client.Subscription, 3)
	for i, u := range users {
		conns[i] = n.dial(t, u)
		subs[i] = subscribe(t, conns[i], client.RoomTopic(room))
	}
	const rounds = 5
	for r := range rounds {
		for i, c := range conns {
			send(t, c, room, fmt.Sprintf("%s says %d", users[i].Name, r), fmt.Sprintf("%d-%d", i, r))
		}
	}
	for i, s := range subs {
		for seq := int64(1); seq <= rounds*3; seq++ {
			m := decodeMessage(t, next(t, s))
			if m.Seq != seq {
				t.Fatalf("%s got seq %d, want %d", users[i].Name, m.Seq, seq)
			}
			sender := users[(seq-1)%3]
			if want := fmt.Sprintf("%s says %d", sender.Name, (seq-1)/3); m.Body != want || m.SenderID != sender.ID {
				t.Fatalf("%s got %q from %s, want %q", users[i].Name, m.Body, m.SenderID, want)
			}
		}
	}
}

func TestReceiptComesAfterTheMessageIsStored(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana, bo := n.newUser(t, "Ana"), n.newUser(t, "Bo")
	room := n.direct(t, ana, bo)
	ca := n.dial(t, ana)
	ctx := context.Background()
	for i := range 20 {
		r := send(t, ca, room, fmt.Sprintf("message %d", i), fmt.Sprintf("c-%d", i))
		// Right after the receipt, and from the other member's point of view.
		msgs, err := n.App.Messages(ctx, bo.ID, room, 0, r.Seq-1, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 || msgs[0].ID != r.MessageID || msgs[0].Seq != r.Seq {
			t.Fatalf("after receipt %+v history has %+v", r, msgs)
		}
	}
}

func TestRetryWithTheSameClientMsgIDStoresAndDeliversOnce(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana, bo := n.newUser(t, "Ana"), n.newUser(t, "Bo")
	room := n.direct(t, ana, bo)
	ca, cb := n.dial(t, ana), n.dial(t, bo)
	topic := subscribe(t, cb, client.RoomTopic(room))

	first := send(t, ca, room, "only once", "retry-1")
	// A retry on a new connection, as after a disconnect.
	ca2 := n.dial(t, ana)
	again := send(t, ca2, room, "only once", "retry-1")
	if again != first {
		t.Fatalf("retry receipt %+v, first %+v", again, first)
	}
	after := send(t, ca2, room, "next one", "retry-2")

	if m := decodeMessage(t, next(t, topic)); m.ID != first.MessageID {
		t.Fatalf("first event %+v", m)
	}
	// The next event is the next message: the retry published nothing.
	if m := decodeMessage(t, next(t, topic)); m.ID != after.MessageID || m.Seq != 2 {
		t.Fatalf("second event %+v, want the message after the retry", m)
	}
	msgs, err := n.App.Messages(context.Background(), ana.ID, room, 0, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("history has %d messages, want 2", len(msgs))
	}
}

func TestReconnectFillsTheGapFromHistory(t *testing.T) {
	n := startNode(t, realtime.Options{})
	ana, bo := n.newUser(t, "Ana"), n.newUser(t, "Bo")
	room := n.direct(t, ana, bo)
	ca := n.dial(t, ana)
	cb := n.dial(t, bo)
	topic := subscribe(t, cb, client.RoomTopic(room))
	send(t, ca, room, "before", "g-0")
	last := decodeMessage(t, next(t, topic)).Seq
	if err := cb.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	for i := 1; i <= 3; i++ {
		send(t, ca, room, fmt.Sprintf("missed %d", i), fmt.Sprintf("g-%d", i))
	}

	cb = n.dial(t, bo)
	topic = subscribe(t, cb, client.RoomTopic(room))
	rest := client.New(n.URL).WithToken(bo.Token)
	req, _ := http.NewRequest(http.MethodGet, rest.URL("/rooms/"+room+"/messages?after="+strconv.FormatInt(last, 10)), nil)
	req.Header.Set("Authorization", "Bearer "+bo.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Messages []plop.Message `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("history: %d %v", resp.StatusCode, err)
	}
	if len(page.Messages) != 3 || page.Messages[0].Body != "missed 1" || page.Messages[2].Seq != last+3 {
		t.Fatalf("gap fill got %+v", page.Messages)
	}
	// And live delivery resumes.
	send(t, ca, room, "live again", "g-4")
	if m := decodeMessage(t, next(t, topic)); m.Body != "live again" || m.Seq != last+4 {
		t.Fatalf("after reconnect got %+v", m)
	}
}
