package client

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/stomp"
)

// STOMP destinations of a Plop server.
const (
	// UserQueue is the connected user's personal queue: every event for them.
	UserQueue = "/user/queue/events"
)

// RoomTopic returns the destination of a room's events.
func RoomTopic(roomID string) string { return "/topic/rooms." + roomID }

// Event is one MESSAGE frame: a real-time event of the server.
type Event struct {
	Type    string            // the event's "type": message.created, typing, presence, ...
	RoomID  string            // the room-id header, for room events
	Seq     int64             // the seq header, for message events
	Headers map[string]string // every header of the frame
	Body    []byte            // the JSON event, as sent
}

// Decode unmarshals the event body into v.
func (e Event) Decode(v any) error { return json.Unmarshal(e.Body, v) }

// Receipt acknowledges a stored message.
type Receipt struct {
	MessageID string
	RoomID    string
	Seq       int64
}

// Subscription is one SUBSCRIBE. Its events arrive on C, in order; C is closed after
// Unsubscribe returns and when the connection ends.
type Subscription struct {
	C           <-chan Event
	Destination string

	c    chan Event
	id   string
	conn *STOMPConn
	done chan struct{}
	once sync.Once
}

// Subscribe subscribes to destination (RoomTopic(id) or UserQueue) and returns once the
// server has confirmed with a RECEIPT that the subscription is in place.
func (c *STOMPConn) Subscribe(ctx context.Context, destination string) (*Subscription, error) {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.nextID++
	ch := make(chan Event, c.cfg.eventBuffer)
	s := &Subscription{C: ch, c: ch, Destination: destination, id: "s-" + strconv.FormatUint(c.nextID, 10), conn: c, done: make(chan struct{})}
	c.subs[s.id] = s
	c.mu.Unlock()
	_, err := c.request(ctx, &stomp.Frame{Command: stomp.CmdSubscribe, Headers: []stomp.Header{
		{Key: stomp.HdrID, Value: s.id},
		{Key: stomp.HdrDestination, Value: destination},
		{Key: stomp.HdrAck, Value: "auto"},
	}}, nil)
	if err != nil {
		c.mu.Lock()
		if c.subs[s.id] == s {
			delete(c.subs, s.id)
		}
		c.mu.Unlock()
		return nil, err
	}
	return s, nil
}

// Unsubscribe ends the subscription and waits for the server's RECEIPT; C is closed then.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	s.once.Do(func() { close(s.done) })
	c := s.conn
	_, err := c.request(ctx, &stomp.Frame{Command: stomp.CmdUnsubscribe, Headers: []stomp.Header{
		{Key: stomp.HdrID, Value: s.id},
	}}, func() {
		// On the read goroutine, the only sender on s.c.
		c.mu.Lock()
		mine := c.subs[s.id] == s
		if mine {
			delete(c.subs, s.id)
		}
		c.mu.Unlock()
		if mine {
			close(s.c)
		}
	})
	return err
}

// Send sends body (JSON) to destination. With withReceipt it waits until the server has
// handled the frame; without, it returns once the frame is written.
func (c *STOMPConn) Send(ctx context.Context, destination string, body []byte, withReceipt bool) error {
	f := &stomp.Frame{Command: stomp.CmdSend, Headers: []stomp.Header{
		{Key: stomp.HdrDestination, Value: destination},
		{Key: stomp.HdrContentType, Value: "application/json"},
	}, Body: body}
	if !withReceipt {
		if err := c.write(f); err != nil {
			return c.endErrOr(err)
		}
		return nil
	}
	_, err := c.request(ctx, f, nil)
	return err
}

// SendMessage sends a message to the room and waits for its RECEIPT, which the server
// sends only once the message is stored. Retrying with the same ClientMsgID after a
// failure never stores it twice.
func (c *STOMPConn) SendMessage(ctx context.Context, roomID string, in app.MessageInput) (Receipt, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return Receipt{}, fmt.Errorf("plop stomp: encode message: %w", err)
	}
	r, err := c.request(ctx, &stomp.Frame{Command: stomp.CmdSend, Headers: []stomp.Header{
		{Key: stomp.HdrDestination, Value: "/app/rooms." + roomID + ".messages"},
		{Key: stomp.HdrContentType, Value: "application/json"},
	}, Body: body}, nil)
	if err != nil {
		return Receipt{}, err
	}
	seq, _ := strconv.ParseInt(header(r, "seq"), 10, 64)
	return Receipt{MessageID: header(r, stomp.HdrMessageID), RoomID: header(r, "room-id"), Seq: seq}, nil
}

// MarkRead moves the caller's read pointer in the room to seq and waits for the RECEIPT.
func (c *STOMPConn) MarkRead(ctx context.Context, roomID string, seq int64) error {
	body := []byte(`{"seq":` + strconv.FormatInt(seq, 10) + `}`)
	return c.Send(ctx, "/app/rooms."+roomID+".read", body, true)
}

// Typing tells the room that the caller is (or stopped) typing and waits for the RECEIPT.
func (c *STOMPConn) Typing(ctx context.Context, roomID string, typing bool) error {
	body := []byte(`{"typing":` + strconv.FormatBool(typing) + `}`)
	return c.Send(ctx, "/app/rooms."+roomID+".typing", body, true)
}
