package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

// messageBody is a message event body as a client reads it.
type messageBody struct {
	Type    string       `json:"type"`
	RoomID  string       `json:"room_id"`
	Message plop.Message `json:"message"`
}

func TestSendMessage(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann := ta.user(t, "Ann")
	bob, cat := ta.friendOf(t, "Bob", ann), ta.friendOf(t, "Cat", ann)
	r := ta.group(t, ann, "g", bob, cat)
	ta.events.reset()

	for i, body := range []string{"one", "  two  ", "three\n"} {
		sender := []string{ann, bob, cat}[i]
		m, created, err := ta.SendMessage(ctx, sender, r.ID, MessageInput{Body: body, ClientMsgID: fmt.Sprintf("c-%d", i)})
		if err != nil || !created {
			t.Fatalf("send %q: created %v, %v", body, created, err)
		}
		if m.Seq != int64(i+1) || m.Body != body || m.SenderID != sender || m.RoomID != r.ID || m.ID == "" {
			t.Errorf("message %d = %+v", i, m)
		}
		e := ta.events.next(t, plop.EventMessageCreated)
		if e.RoomID != r.ID || e.Seq != m.Seq || !sameIDs(e.UserIDs, []string{ann, bob, cat}) {
			t.Errorf("message.created room %q seq %d users %v", e.RoomID, e.Seq, e.UserIDs)
		}
		got := decodeBody[messageBody](t, e)
		if got.Type != plop.EventMessageCreated || got.RoomID != r.ID || got.Message.ID != m.ID ||
			got.Message.Body != body || got.Message.ClientMsgID != fmt.Sprintf("c-%d", i) {
			t.Errorf("message.created body = %s", e.Body)
		}
		if !strings.Contains(string(e.Body), `"reactions":[]`) {
			t.Errorf("message.created body has no empty reactions list: %s", e.Body)
		}
	}
	msgs, err := ta.Messages(ctx, cat, r.ID, 0, 0, 0)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("history = %d, %v", len(msgs), err)
	}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Errorf("history[%d].seq = %d", i, m.Seq)
		}
	}
}

func TestSendMessageIsIdempotent(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann := ta.user(t, "Ann")
	bob := ta.friendOf(t, "Bob", ann)
	r := ta.direct(t, ann, bob)
	ta.events.reset()

	in := MessageInput{Body: "only once", ClientMsgID: "retry-1"}
	first, created, err := ta.SendMessage(ctx, ann, r.ID, in)
	if err != nil || !created {
		t.Fatalf("first send: %v, %v", created, err)
	}
	in.Body = "a retry carries the same id"
	again, created, err := ta.SendMessage(ctx, ann, r.ID, in)
	if err != nil || created {
		t.Fatalf("retry: created %v, %v; want the stored message", created, err)
	}
	if again.ID != first.ID || again.Seq != first.Seq || again.Body != "only once" {
		t.Errorf("retry returned %+v, want %+v", again, first)
	}
	if n := len(ta.events.ofType(plop.EventMessageCreated)); n != 1 {
		t.Errorf("%d message.created events, want 1", n)
	}
	// The same client id from the other member is another message.
	if _, created, err := ta.SendMessage(ctx, bob, r.ID, in); err != nil || !created {
		t.Errorf("Bob with Ann's client id: created %v, %v", created, err)
	}
	// Without a client id each send is new and gets an id of its own.
	a := ta.send(t, ann, r.ID, "x")
	b := ta.send(t, ann, r.ID, "x")
	if a.ClientMsgID == "" || a.ClientMsgID == b.ClientMsgID || a.Seq == b.Seq {
		t.Errorf("generated client ids %q, %q at seqs %d, %d", a.ClientMsgID, b.ClientMsgID, a.Seq, b.Seq)
	}
	if msgs, _ := ta.Messages(ctx, bob, r.ID, 0, 0, 0); len(msgs) != 4 {
		t.Errorf("history has %d messages, want 4", len(msgs))
	}
}

func TestSendMessageValidation(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann := ta.user(t, "Ann")
	bob := ta.friendOf(t, "Bob", ann)
	r := ta.direct(t, ann, bob)
	first := ta.send(t, ann, r.ID, "first")
	other := ta.direct(t, ann, ta.friendOf(t, "Cat", ann))
	ta.send(t, ann, other.ID, "elsewhere 1")
	ta.send(t, ann, other.ID, "elsewhere 2")
	ta.events.reset()

	seq := func(n int64) *int64 { return &n }
	for _, tc := range []struct {
		name string
		in   MessageInput
		msg  string
	}{
		{"empty", MessageInput{Body: ""}, "message body is empty"},
		{"white space", MessageInput{Body: " \n\t "}, "message body is empty"},
		{"too long", MessageInput{Body: strings.Repeat("a", plop.MaxMessageBody+1)}, "message body is longer than 8000 bytes"},
		{"too long in bytes", MessageInput{Body: strings.Repeat("é", plop.MaxMessageBody/2+1)}, "message body is longer than 8000 bytes"},
		{"not UTF-8", MessageInput{Body: "bad \xff byte"}, "UTF-8"},
		{"long client id", MessageInput{Body: "x", ClientMsgID: strings.Repeat("c", plop.MaxClientMsgID+1)}, "client_msg_id"},
		{"client id with space", MessageInput{Body: "x", ClientMsgID: "a b"}, "client_msg_id"},
		{"unknown attachment", MessageInput{Body: "x", AttachmentIDs: []string{"a1"}}, "attachment_ids"},
		{"reply to nothing", MessageInput{Body: "x", ReplyTo: seq(2)}, "reply_to"},
		{"reply to zero", MessageInput{Body: "x", ReplyTo: seq(0)}, "reply_to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ta.SendMessage(ctx, ann, r.ID, tc.in)
			wantCode(t, err, plop.EInvalid)
			if !strings.Contains(plop.ErrorMessage(err), tc.msg) {
				t.Errorf("message %q does not mention %q", plop.ErrorMessage(err), tc.msg)
			}
		})
	}
	ta.events.none(t, plop.EventMessageCreated)

	// The limits themselves pass, and the body is kept exactly as sent.
	long := strings.Repeat("é", plop.MaxMessageBody/2)
	if m, _, err := ta.SendMessage(ctx, ann, r.ID, MessageInput{Body: long, ClientMsgID: strings.Repeat("c", plop.MaxClientMsgID)}); err != nil || m.Body != long {
		t.Errorf("a body of exactly %d bytes: %v", plop.MaxMessageBody, err)
	}
	reply, _, err := ta.SendMessage(ctx, bob, r.ID, MessageInput{Body: "re", ReplyTo: seq(first.Seq)})
	if err != nil || reply.ReplyTo == nil || *reply.ReplyTo != first.Seq {
		t.Fatalf("reply: %+v, %v", reply.ReplyTo, err)
	}
	if got, _ := ta.Messages(ctx, ann, r.ID, 0, reply.Seq-1, 1); len(got) != 1 || got[0].ReplyTo == nil || *got[0].ReplyTo != first.Seq {
		t.Errorf("stored reply = %+v", got)
	}
}

func TestBlockStopsDirectRoom(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann := ta.user(t, "Ann")
	bob := ta.friendOf(t, "Bob", ann)
	d := ta.direct(t, ann, bob)
	g := ta.group(t, ann, "just us", bob) // a group of the same two people
	mine := ta.send(t, ann, d.ID, "before")
	theirs := ta.send(t, bob, d.ID, "before too")
	if err := ta.Block(ctx, bob, ann); err != nil {
		t.Fatal(err)
	}
	ta.events.reset()

	for _, who := range []string{ann, bob} {
		_, _, err := ta.SendMessage(ctx, who, d.ID, MessageInput{Body: "hello?"})
		wantCode(t, err, plop.EForbidden)
		wantCode(t, ta.Typing(ctx, who, "c", d.ID, true), plop.EForbidden)
	}
	_, err := ta.EditMessage(ctx, ann, d.ID, mine.Seq, "edited")
	wantCode(t, err, plop.EForbidden)
	wantCode(t, ta.React(ctx, ann, d.ID, theirs.Seq, "👍", true), plop.EForbidden)
	ta.events.none(t, plop.EventMessageCreated)
	ta.events.none(t, plop.EventTyping)

	// What was said can still be read and unsent.
	if msgs, err := ta.Messages(ctx, ann, d.ID, 0, 0, 0); err != nil || len(msgs) != 2 {
		t.Errorf("history after block = %d, %v", len(msgs), err)
	}
	if _, err := ta.DeleteMessage(ctx, ann, d.ID, mine.Seq); err != nil {
		t.Errorf("unsend after block: %v", err)
	}
	// A group is not a direct room, even of two.
	ta.send(t, ann, g.ID, "the group still works")

	if err := ta.Unblock(ctx, bob, ann); err != nil {
		t.Fatal(err)
	}
	ta.send(t, ann, d.ID, "we talk again")
}

func TestHistoryBeforeAfter(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann := ta.user(t, "Ann")
	bob := ta.friendOf(t, "Bob", ann)
	r := ta.direct(t, ann, bob)
	if msgs, err := ta.Messages(ctx, ann, r.ID, 0, 0, 0); err != nil || msgs == nil || len(msgs) != 0 {
		t.Fatalf("empty history = %#v, %v; want an empty list", msgs, err)
	}
	for i := 1; i <= 10; i++ {
		ta.send(t, []string{ann, bob}[i%2], r.ID, "m")
	}
	seqs := func(ms []plop.Message) []int64 {
		out := make([]int64, len(ms))
		for i, m := range ms {
			out[i] = m.Seq
		}
		return out
	}
	for _, tc := range []struct {
		name          string
		before, after int64
		limit         int
		want          []int64
	}{
		{"latest", 0, 0, 3, []int64{8, 9, 10}},
		{"before", 8, 0, 3, []int64{5, 6, 7}},
		{"before, short page", 3, 0, 5, []int64{1, 2}},
		{"after", 0, 7, 50, []int64{8, 9, 10}},
		{"after, limited", 0, 2, 2, []int64{3, 4}},
		{"after the end", 0, 10, 5, []int64{}},
		{"default limit", 0, 0, 0, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ta.Messages(ctx, bob, r.ID, tc.before, tc.after, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if g := seqs(got); len(g) != len(tc.want) || (len(g) > 0 && !equalSeqs(g, tc.want)) {
				t.Errorf("seqs = %v, want %v", g, tc.want)
			}
		})
	}
	_, err := ta.Messages(ctx, ann, r.ID, 5, 2, 10)
	wantCode(t, err, plop.EInvalid)
	_, err = ta.Messages(ctx, ann, r.ID, -1, 0, 10)
	wantCode(t, err, plop.EInvalid)
}

func equalSeqs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestUnreadAndMarkRead(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann := ta.user(t, "Ann")
	bob, cat := ta.friendOf(t, "Bob", ann), ta.friendOf(t, "Cat", ann)
	r := ta.group(t, ann, "g", bob, cat)
	for _, b := range []string{"1", "2", "3"} {
		ta.send(t, ann, r.ID, b)
	}
	ta.events.reset()
	unread := func(who string) int64 {
		t.Helper()
		got, err := ta.Room(ctx, who, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.UnreadCount
	}
	if a, b := unread(ann), unread(bob); a != 0 || b != 3 {
		t.Fatalf("unread: Ann %d, Bob %d; want 0 and 3", a, b)
	}

	if err := ta.MarkRead(ctx, bob, r.ID, 2); err != nil {
		t.Fatal(err)
	}
	e := ta.events.next(t, plop.EventRoomRead)
	body := decodeBody[readEvent](t, e)
	if e.RoomID != r.ID || !sameIDs(e.UserIDs, []string{ann, bob, cat}) || body.UserID != bob || body.Seq != 2 || body.RoomID != r.ID {
		t.Errorf("room.read to %q %v body %s", e.RoomID, e.UserIDs, e.Body)
	}
	if got := unread(bob); got != 1 {
		t.Errorf("Bob's unread after reading to 2 = %d, want 1", got)
	}
	if got := unread(cat); got != 3 {
		t.Errorf("Cat's unread = %d, want 3", got)
	}

	// The pointer never goes back, and standing still tells nobody.
	for _, seq := range []int64{1, 2, 0} {
		if err := ta.MarkRead(ctx, bob, r.ID, seq); err != nil {
			t.Fatal(err)
		}
	}
	ta.events.none(t, plop.EventRoomRead)
	if got := unread(bob); got != 1 {
		t.Errorf("Bob's unread after reading backwards = %d, want 1", got)
	}

	// Reading past the end stops at the last message.
	if err := ta.MarkRead(ctx, bob, r.ID, 100); err != nil {
		t.Fatal(err)
	}
	if body := decodeBody[readEvent](t, ta.events.next(t, plop.EventRoomRead)); body.Seq != 3 {
		t.Errorf("room.read seq = %d, want 3", body.Seq)
	}
	if got := unread(bob); got != 0 {
		t.Errorf("Bob's unread = %d, want 0", got)
	}
	// Asking past the end again moves nothing and tells nobody.
	if err := ta.MarkRead(ctx, bob, r.ID, 50); err != nil {
		t.Fatal(err)
	}
	ta.events.none(t, plop.EventRoomRead)
	ta.send(t, cat, r.ID, "4")
	if got := unread(bob); got != 1 {
		t.Errorf("Bob's unread after a new message = %d, want 1", got)
	}
	wantCode(t, ta.MarkRead(ctx, bob, r.ID, -1), plop.EInvalid)
}

func TestEditAndUnsend(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann := ta.user(t, "Ann")
	bob := ta.friendOf(t, "Bob", ann)
	r := ta.direct(t, ann, bob)
	m := ta.send(t, ann, r.ID, "helo")
	ta.clock.Advance(time.Minute)
	ta.events.reset()

	_, err := ta.EditMessage(ctx, bob, r.ID, m.Seq, "not yours")
	wantCode(t, err, plop.EForbidden)
	_, err = ta.EditMessage(ctx, ann, r.ID, 99, "no such")
	wantCode(t, err, plop.ENotFound)
	_, err = ta.EditMessage(ctx, ann, r.ID, 0, "no such")
	wantCode(t, err, plop.ENotFound)
	_, err = ta.EditMessage(ctx, ann, r.ID, m.Seq, "   ")
	wantCode(t, err, plop.EInvalid)
	_, err = ta.EditMessage(ctx, ann, r.ID, m.Seq, strings.Repeat("x", plop.MaxMessageBody+1))
	wantCode(t, err, plop.EInvalid)
	ta.events.none(t, plop.EventMessageUpdated)

	edited, err := ta.EditMessage(ctx, ann, r.ID, m.Seq, "hello")
	if err != nil || edited.Body != "hello" || edited.EditedAt == nil || !edited.EditedAt.Equal(ta.clock.Now()) {
		t.Fatalf("edit = %+v, %v", edited, err)
	}
	e := ta.events.next(t, plop.EventMessageUpdated)
	if body := decodeBody[messageBody](t, e); e.RoomID != r.ID || e.Seq != m.Seq || !sameIDs(e.UserIDs, []string{ann, bob}) ||
		body.Message.Body != "hello" || body.Message.EditedAt == nil {
		t.Errorf("message.updated %q seq %d %v body %s", e.RoomID, e.Seq, e.UserIDs, e.Body)
	}

	_, err = ta.DeleteMessage(ctx, bob, r.ID, m.Seq)
	wantCode(t, err, plop.EForbidden)
	_, err = ta.DeleteMessage(ctx, ann, r.ID, 42)
	wantCode(t, err, plop.ENotFound)
	if err := ta.React(ctx, bob, r.ID, m.Seq, "❤️", true); err != nil {
		t.Fatal(err)
	}
	gone, err := ta.DeleteMessage(ctx, ann, r.ID, m.Seq)
	if err != nil || !gone.Deleted || gone.Body != "" || len(gone.Reactions) != 0 {
		t.Fatalf("unsend = %+v, %v", gone, err)
	}
	e = ta.events.next(t, plop.EventMessageDeleted)
	if body := decodeBody[messageBody](t, e); e.Seq != m.Seq || !body.Message.Deleted || body.Message.Body != "" {
		t.Errorf("message.deleted body %s", e.Body)
	}
	if msgs, _ := ta.Messages(ctx, bob, r.ID, 0, 0, 0); len(msgs) != 1 || !msgs[0].Deleted || msgs[0].Body != "" {
		t.Errorf("history after unsend = %+v", msgs)
	}
	_, err = ta.EditMessage(ctx, ann, r.ID, m.Seq, "back")
	wantCode(t, err, plop.EForbidden)
	_, err = ta.DeleteMessage(ctx, ann, r.ID, m.Seq)
	wantCode(t, err, plop.EForbidden)
}

func TestReactions(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann := ta.user(t, "Ann")
	bob, cat := ta.friendOf(t, "Bob", ann), ta.friendOf(t, "Cat", ann)
	r := ta.group(t, ann, "g", bob, cat)
	m := ta.send(t, ann, r.ID, "react to me")
	ta.events.reset()

	for _, bad := range []string{"", "a b", "x\n", strings.Repeat("😀", 9), "\xff"} {
		wantCode(t, ta.React(ctx, bob, r.ID, m.Seq, bad, true), plop.EInvalid)
	}
	wantCode(t, ta.React(ctx, bob, r.ID, 9, "👍", true), plop.ENotFound)
	ta.events.none(t, plop.EventReactionChanged)

	family := "👩‍👩‍👧‍👦" // 25 bytes with joiners
	for _, who := range []string{bob, cat} {
		if err := ta.React(ctx, who, r.ID, m.Seq, family, true); err != nil {
			t.Fatalf("react: %v", err)
		}
	}
	ta.events.next(t, plop.EventReactionChanged)
	e := ta.events.next(t, plop.EventReactionChanged)
	body := decodeBody[reactionEvent](t, e)
	if e.RoomID != r.ID || e.Seq != m.Seq || !sameIDs(e.UserIDs, []string{ann, bob, cat}) ||
		body.UserID != cat || body.Emoji != family || !body.On || body.Seq != m.Seq ||
		len(body.Reactions) != 1 || body.Reactions[0].Count != 2 || !sameIDs(body.Reactions[0].UserIDs, []string{bob, cat}) {
		t.Errorf("reaction.changed %q seq %d %v body %s", e.RoomID, e.Seq, e.UserIDs, e.Body)
	}

	if err := ta.React(ctx, bob, r.ID, m.Seq, family, false); err != nil {
		t.Fatal(err)
	}
	body = decodeBody[reactionEvent](t, ta.events.next(t, plop.EventReactionChanged))
	if body.On || len(body.Reactions) != 1 || body.Reactions[0].Count != 1 {
		t.Errorf("after Bob's removal reactions = %+v", body.Reactions)
	}
	msgs, _ := ta.Messages(ctx, ann, r.ID, 0, 0, 0)
	if len(msgs[0].Reactions) != 1 || msgs[0].Reactions[0].Emoji != family || msgs[0].Reactions[0].Count != 1 {
		t.Errorf("stored reactions = %+v", msgs[0].Reactions)
	}

	if _, err := ta.DeleteMessage(ctx, ann, r.ID, m.Seq); err != nil {
		t.Fatal(err)
	}
	wantCode(t, ta.React(ctx, bob, r.ID, m.Seq, "👍", true), plop.EInvalid)
}

func TestTypingIsThrottledAndNotStored(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{TypingInterval: 3 * time.Second})
	ann := ta.user(t, "Ann")
	bob, cat := ta.friendOf(t, "Bob", ann), ta.friendOf(t, "Cat", ann)
	r := ta.group(t, ann, "g", bob, cat)
	ta.events.reset()

	if err := ta.Typing(ctx, bob, "bob-conn-1", r.ID, true); err != nil {
		t.Fatal(err)
	}
	e := ta.events.next(t, plop.EventTyping)
	body := decodeBody[typingEvent](t, e)
	if e.RoomID != r.ID || e.ExceptConn != "bob-conn-1" || !sameIDs(e.UserIDs, []string{ann, bob, cat}) ||
		body.Type != plop.EventTyping || body.RoomID != r.ID || body.UserID != bob || !body.Typing {
		t.Errorf("typing to %q except %q %v body %s", e.RoomID, e.ExceptConn, e.UserIDs, e.Body)
	}

	// Within the interval, more typing=true is dropped quietly; typing=false always passes;
	// other typists and other rooms have their own allowance.
	ta.clock.Advance(time.Second)
	if err := ta.Typing(ctx, bob, "bob-conn-1", r.ID, true); err != nil {
		t.Fatalf("throttled typing is an error: %v", err)
	}
	ta.events.none(t, plop.EventTyping)
	if err := ta.Typing(ctx, bob, "bob-conn-1", r.ID, false); err != nil {
		t.Fatal(err)
	}
	if body := decodeBody[typingEvent](t, ta.events.next(t, plop.EventTyping)); body.Typing {
		t.Error("typing=false was relayed as typing")
	}
	if err := ta.Typing(ctx, cat, "cat-conn", r.ID, true); err != nil {
		t.Fatal(err)
	}
	if body := decodeBody[typingEvent](t, ta.events.next(t, plop.EventTyping)); body.UserID != cat {
		t.Errorf("Cat's typing came as %s's", body.UserID)
	}
	d := ta.direct(t, ann, bob)
	if err := ta.Typing(ctx, bob, "bob-conn-1", d.ID, true); err != nil {
		t.Fatal(err)
	}
	ta.events.next(t, plop.EventTyping)

	ta.clock.Advance(2 * time.Second)
	if err := ta.Typing(ctx, bob, "bob-conn-2", r.ID, true); err != nil {
		t.Fatal(err)
	}
	if e := ta.events.next(t, plop.EventTyping); e.ExceptConn != "bob-conn-2" {
		t.Errorf("after the interval: except %q", e.ExceptConn)
	}

	// Nothing of it is stored.
	got, err := ta.Room(ctx, ann, r.ID)
	if err != nil || got.LastSeq != 0 || got.LastMessage != nil {
		t.Errorf("room after typing: last seq %d, last message %+v, %v", got.LastSeq, got.LastMessage, err)
	}
	if msgs, _ := ta.Messages(ctx, ann, r.ID, 0, 0, 0); len(msgs) != 0 {
		t.Errorf("typing left %d messages", len(msgs))
	}
}
