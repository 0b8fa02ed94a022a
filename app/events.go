package app

import (
	"context"
	"encoding/json"

	"github.com/plop-chat/plop"
)

// publish encodes body once and hands the event to the broker. Delivery is best-effort (the
// change is already stored and clients fill gaps from history), so a failure is logged, not
// returned.
func (a *App) publish(ctx context.Context, e plop.Event, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		a.log.ErrorContext(ctx, "encode event", "type", e.Type, "err", err)
		return
	}
	e.Body = b
	if err := a.broker.Publish(ctx, e); err != nil {
		a.log.WarnContext(ctx, "publish event", "type", e.Type, "room_id", e.RoomID, "err", err)
	}
}

// Event bodies. Each has the "type" field first.
type (
	friendRequestEvent struct {
		Type    string             `json:"type"`
		Request plop.FriendRequest `json:"request"`
	}
	friendAcceptedEvent struct {
		Type   string      `json:"type"`
		Friend plop.Friend `json:"friend"`
	}
	presenceEvent struct {
		Type     string        `json:"type"`
		Presence plop.Presence `json:"presence"`
	}
)
