package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/plop-chat/plop"
)

// Every call below answers not_found for a room the caller is not a member of (see
// room_access.go). In a direct room whose two members block each other (either way),
// sending, editing, reacting and typing are forbidden; unsending, removing a reaction and
// reading stay allowed.

// SendMessage stores a message and publishes message.created to the room. A repeated
// client_msg_id from the same sender in the same room returns the stored message with
// created false and publishes nothing (an idempotent retry); an empty client_msg_id gets a
// fresh one.
//
// The body is kept exactly as sent: valid UTF-8, not only white space, at most
// plop.MaxMessageBody bytes. reply_to must be the seq of a message of the same room.
// attachment_ids (at most plop.MaxAttachmentsSent) must name files the sender uploaded to
// this room that no message carries yet (see UploadAttachment); a message with attachments
// may have an empty body.
// Returns invalid_argument, not_found or forbidden.
func (a *App) SendMessage(ctx context.Context, me, roomID string, in MessageInput) (msg plop.Message, created bool, err error) {
	if err := checkMessageBody(in.Body, len(in.AttachmentIDs)); err != nil {
		return plop.Message{}, false, err
	}
	cid, err := clientMsgID(in.ClientMsgID)
	if err != nil {
		return plop.Message{}, false, err
	}
	if err := checkAttachmentIDs(in.AttachmentIDs); err != nil {
		return plop.Message{}, false, err
	}
	members, err := a.membersIfIn(ctx, me, roomID)
	if err != nil {
		return plop.Message{}, false, err
	}
	if err := a.checkWritable(ctx, roomID, members); err != nil {
		return plop.Message{}, false, err
	}
	if in.ReplyTo != nil {
		if err := a.checkReplyTo(ctx, roomID, *in.ReplyTo); err != nil {
			return plop.Message{}, false, err
		}
	}
	m := plop.Message{
		ID:          uuid.Must(uuid.NewV7()).String(),
		RoomID:      roomID,
		SenderID:    me,
		Body:        in.Body,
		ClientMsgID: cid,
		ReplyTo:     in.ReplyTo,
		CreatedAt:   a.clock(),

		AttachmentIDs: in.AttachmentIDs,
	}
	stored, created, err := a.store.CreateMessage(ctx, &m)
	if err != nil {
		return plop.Message{}, false, err
	}
	stored = a.presentMessage(stored)
	if created {
		a.publishMessage(ctx, plop.EventMessageCreated, stored, members)
	}
	return stored, created, nil
}

// checkReplyTo returns invalid_argument unless seq names a message of the room.
func (a *App) checkReplyTo(ctx context.Context, roomID string, seq int64) error {
	bad := plop.Errorf(plop.EInvalid, "reply_to names no message of this room")
	if seq < 1 {
		return bad
	}
	if _, err := a.store.Message(ctx, roomID, seq); err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			return bad
		}
		return err
	}
	return nil
}

// Messages returns up to limit messages of the room ascending by seq: the latest ones
// before `before` when before > 0, the earliest ones after `after` when after > 0, else the
// latest ones. Returns invalid_argument or not_found.
func (a *App) Messages(ctx context.Context, me, roomID string, before, after int64, limit int) ([]plop.Message, error) {
	switch {
	case before < 0 || after < 0:
		return nil, plop.Errorf(plop.EInvalid, "before and after must not be negative")
	case before > 0 && after > 0:
		return nil, plop.Errorf(plop.EInvalid, "give before or after, not both")
	}
	if err := a.AuthorizeRoom(ctx, me, roomID); err != nil {
		return nil, err
	}
	msgs, err := a.store.Messages(ctx, roomID, before, after, plop.ClampLimit(limit))
	if err != nil {
		return nil, err
	}
	out := make([]plop.Message, len(msgs))
	for i, m := range msgs {
		out[i] = a.presentMessage(m)
	}
	return out, nil
}

// EditMessage replaces the body of one of the caller's messages (same rules as a sent body)
// and publishes message.updated. Returns invalid_argument, not_found or forbidden (not the
// caller's message, or unsent).
func (a *App) EditMessage(ctx context.Context, me, roomID string, seq int64, body string) (plop.Message, error) {
	if err := checkBody(body); err != nil {
		return plop.Message{}, err
	}
	members, err := a.ownMessage(ctx, me, roomID, seq)
	if err != nil {
		return plop.Message{}, err
	}
	if err := a.checkWritable(ctx, roomID, members); err != nil {
		return plop.Message{}, err
	}
	m, err := a.store.EditMessage(ctx, roomID, seq, body, a.clock())
	if err != nil {
		return plop.Message{}, err
	}
	m = a.presentMessage(m)
	a.publishMessage(ctx, plop.EventMessageUpdated, m, members)
	return m, nil
}

// DeleteMessage unsends one of the caller's messages: its body, reactions and attachments
// are cleared and message.deleted is published. Returns not_found or forbidden (not the
// caller's message, or unsent already).
func (a *App) DeleteMessage(ctx context.Context, me, roomID string, seq int64) (plop.Message, error) {
	members, err := a.ownMessage(ctx, me, roomID, seq)
	if err != nil {
		return plop.Message{}, err
	}
	gone := a.attachmentsOf(ctx, roomID, seq)
	m, err := a.store.DeleteMessage(ctx, roomID, seq, a.clock())
	if err != nil {
		return plop.Message{}, err
	}
	for _, att := range gone {
		a.deleteAttachmentBlobs(ctx, att)
	}
	m = a.presentMessage(m)
	a.publishMessage(ctx, plop.EventMessageDeleted, m, members)
	return m, nil
}

// ownMessage checks that message seq of roomID exists, was sent by me and is not unsent,
// and returns the room's members.
func (a *App) ownMessage(ctx context.Context, me, roomID string, seq int64) ([]string, error) {
	members, err := a.membersIfIn(ctx, me, roomID)
	if err != nil {
		return nil, err
	}
	m, err := a.messageAt(ctx, roomID, seq)
	if err != nil {
		return nil, err
	}
	if m.SenderID != me {
		return nil, plop.Errorf(plop.EForbidden, "you can change only your own messages")
	}
	if m.Deleted {
		return nil, plop.Errorf(plop.EForbidden, "the message was unsent")
	}
	return members, nil
}

// messageAt loads message seq of roomID; not_found when there is none.
func (a *App) messageAt(ctx context.Context, roomID string, seq int64) (plop.Message, error) {
	if err := checkSeq(seq); err != nil {
		return plop.Message{}, err
	}
	m, err := a.store.Message(ctx, roomID, seq)
	if err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			return plop.Message{}, plop.Errorf(plop.ENotFound, "no such message")
		}
		return plop.Message{}, err
	}
	return m, nil
}

// React adds (on) or removes the caller's emoji on a message and publishes reaction.changed
// with the message's reactions after the change. Returns invalid_argument (a bad emoji, an
// unsent message), not_found or forbidden.
func (a *App) React(ctx context.Context, me, roomID string, seq int64, emoji string, on bool) error {
	if err := checkEmoji(emoji); err != nil {
		return err
	}
	members, err := a.membersIfIn(ctx, me, roomID)
	if err != nil {
		return err
	}
	if on {
		if err := a.checkWritable(ctx, roomID, members); err != nil {
			return err
		}
	}
	m, err := a.messageAt(ctx, roomID, seq)
	if err != nil {
		return err
	}
	if m.Deleted {
		return plop.Errorf(plop.EInvalid, "the message was unsent")
	}
	reactions, err := a.store.SetReaction(ctx, roomID, seq, me, emoji, on, a.clock())
	if err != nil {
		return err
	}
	if reactions == nil {
		reactions = []plop.Reaction{}
	}
	a.publishRoom(ctx, plop.EventReactionChanged, roomID, seq, members, reactionEvent{
		Type: plop.EventReactionChanged, RoomID: roomID, Seq: seq, Reactions: reactions,
		UserID: me, Emoji: emoji, On: on,
	})
	return nil
}

// MarkRead moves the caller's read pointer up to seq (never back, never past the room's last
// message) and, when it moved, publishes room.read. Returns invalid_argument or not_found.
func (a *App) MarkRead(ctx context.Context, me, roomID string, seq int64) error {
	if seq < 0 {
		return plop.Errorf(plop.EInvalid, "seq must not be negative")
	}
	if checkID("room id", roomID) != nil {
		return errNoRoom()
	}
	before, err := a.store.Member(ctx, roomID, me)
	if err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			return errNoRoom()
		}
		return err
	}
	if seq <= before.LastReadSeq {
		return nil
	}
	after, err := a.store.MarkRead(ctx, roomID, me, seq)
	if err != nil {
		return err
	}
	if after <= before.LastReadSeq {
		return nil
	}
	members, err := a.roomMembers(ctx, roomID)
	if err != nil {
		// The pointer moved; only the event is lost, as when publishing fails.
		a.log.WarnContext(ctx, "load members for read receipt", "room_id", roomID, "err", err)
		return nil
	}
	a.publishRoom(ctx, plop.EventRoomRead, roomID, 0, members,
		readEvent{Type: plop.EventRoomRead, RoomID: roomID, UserID: me, Seq: after})
	return nil
}
