package plop

import "context"

// Event types, the "type" field of every real-time event body.
const (
	EventMessageCreated  = "message.created"
	EventMessageUpdated  = "message.updated"
	EventMessageDeleted  = "message.deleted"
	EventReactionChanged = "reaction.changed"
	EventRoomRead        = "room.read"
	EventTyping          = "typing"
	EventRoomCreated     = "room.created"
	EventRoomUpdated     = "room.updated"
	EventMemberAdded     = "member.added"
	EventMemberRemoved   = "member.removed"
	EventFriendRequest   = "friend.request"
	EventFriendAccepted  = "friend.accepted"
	EventPresence        = "presence"
)

// Event is what the services publish after a change is stored. Each node's hub delivers it
// to its local subscribers of the room topic (when RoomID is set) and to the personal queues
// of UserIDs.
type Event struct {
	Type    string   `json:"type"`
	RoomID  string   `json:"room_id,omitempty"`
	Seq     int64    `json:"seq,omitempty"`
	UserIDs []string `json:"user_ids,omitempty"`
	// ExceptConn, when set, is a connection id that must not receive the event (typing
	// indicators are not echoed to the typist's own connection).
	ExceptConn string `json:"except_conn,omitempty"`
	// Body is the JSON event, {"type": ..., ...}, encoded once by the publisher.
	Body []byte `json:"body"`
}

// Broker carries events between the nodes of a cluster. The in-process broker serves one
// node; the Redis one fans out across nodes.
type Broker interface {
	// Publish sends e to every subscriber on every node. It returns once the broker has
	// accepted the event; delivery is best-effort (clients fill gaps from history).
	Publish(ctx context.Context, e Event) error
	// Subscribe calls deliver for every event published from now on, until ctx is done.
	// deliver must not block. Subscribe returns once the subscription is in place.
	Subscribe(ctx context.Context, deliver func(Event)) error
}
