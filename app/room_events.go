package app

import (
	"context"

	"github.com/plop-chat/plop"
)

// Bodies of the room events. Each has the "type" field first.
type (
	// messageEvent is message.created, message.updated and message.deleted.
	messageEvent struct {
		Type    string       `json:"type"`
		RoomID  string       `json:"room_id"`
		Message plop.Message `json:"message"`
	}
	reactionEvent struct {
		Type      string          `json:"type"`
		RoomID    string          `json:"room_id"`
		Seq       int64           `json:"seq"`
		Reactions []plop.Reaction `json:"reactions"`
		UserID    string          `json:"user_id"`
		Emoji     string          `json:"emoji"`
		On        bool            `json:"on"`
	}
	readEvent struct {
		Type   string `json:"type"`
		RoomID string `json:"room_id"`
		UserID string `json:"user_id"`
		Seq    int64  `json:"seq"`
	}
	typingEvent struct {
		Type   string `json:"type"`
		RoomID string `json:"room_id"`
		UserID string `json:"user_id"`
		Typing bool   `json:"typing"`
	}
	// roomEvent is room.created and room.updated; the room carries no per-user fields.
	roomEvent struct {
		Type string    `json:"type"`
		Room plop.Room `json:"room"`
	}
	memberAddedEvent struct {
		Type    string        `json:"type"`
		RoomID  string        `json:"room_id"`
		Members []plop.Member `json:"members"`
	}
	memberRemovedEvent struct {
		Type   string `json:"type"`
		RoomID string `json:"room_id"`
		UserID string `json:"user_id"`
	}
)

// publishRoom publishes a room event to the room's topic and to the personal queues of to
// (the members, and anyone else who must hear of it). seq is set for message events.
func (a *App) publishRoom(ctx context.Context, typ, roomID string, seq int64, to []string, body any) {
	a.publish(ctx, plop.Event{Type: typ, RoomID: roomID, Seq: seq, UserIDs: to}, body)
}

// publishMessage publishes a message event (created, updated or deleted) to the members.
func (a *App) publishMessage(ctx context.Context, typ string, m plop.Message, members []string) {
	a.publishRoom(ctx, typ, m.RoomID, m.Seq, members, messageEvent{Type: typ, RoomID: m.RoomID, Message: m})
}
