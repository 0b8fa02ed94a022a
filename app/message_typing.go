package app

import (
	"context"

	"github.com/plop-chat/plop"
)

// Typing relays a typing indicator to the room as a typing event; it is never stored.
// connID is the typist's connection, which does not get its own indicator back.
//
// typing=true is throttled per user and room to one per Config.TypingInterval, through the
// rate Limiter so that the throttle holds across nodes and its state is bounded and swept by
// the limiter; a throttled indicator is dropped silently (nil error, nothing relayed), since
// the client will repeat it. typing=false always passes.
// Returns not_found or forbidden.
func (a *App) Typing(ctx context.Context, me, connID, roomID string, typing bool) error {
	if checkID("room id", roomID) != nil {
		return errNoRoom()
	}
	if typing {
		ok, _, err := a.limiter.Allow(ctx, "typing:"+me+"|"+roomID, 1, a.cfg.TypingInterval)
		if err != nil {
			// An indicator is worth less than the query a refusal would save: relay it.
			a.log.WarnContext(ctx, "typing throttle", "room_id", roomID, "err", err)
		} else if !ok {
			return nil
		}
	}
	members, err := a.membersIfIn(ctx, me, roomID)
	if err != nil {
		return err
	}
	if err := a.checkWritable(ctx, roomID, members); err != nil {
		return err
	}
	a.publish(ctx, plop.Event{Type: plop.EventTyping, RoomID: roomID, UserIDs: members, ExceptConn: connID},
		typingEvent{Type: plop.EventTyping, RoomID: roomID, UserID: me, Typing: typing})
	return nil
}
