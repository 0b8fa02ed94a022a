package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"
	"github.com/plop-chat/plop"
)

type roomBody struct {
	Room plop.Room `json:"room"`
}

type messageBody struct {
	Message plop.Message `json:"message"`
}

// CreateDirectRoom returns the direct room of the caller and userID, creating it the first
// time: the same pair always gets the same room.
func (c *Client) CreateDirectRoom(ctx context.Context, userID string) (plop.Room, error) {
	var out roomBody
	err := c.do(ctx, call{method: http.MethodPost, path: "/rooms",
		in: map[string]any{"type": plop.RoomDirect, "member_ids": []string{userID}}, out: &out})
	return out.Room, err
}

// CreateGroupRoom creates a named group of the caller (its admin) and memberIDs.
func (c *Client) CreateGroupRoom(ctx context.Context, name string, memberIDs ...string) (plop.Room, error) {
	if memberIDs == nil {
		memberIDs = []string{}
	}
	var out roomBody
	err := c.do(ctx, call{method: http.MethodPost, path: "/rooms",
		in: map[string]any{"type": plop.RoomGroup, "name": name, "member_ids": memberIDs}, out: &out})
	return out.Room, err
}

// Rooms lists every room of the caller, latest activity first, following the pages to the
// end.
func (c *Client) Rooms(ctx context.Context) ([]plop.Room, error) {
	var all []plop.Room
	cursor := ""
	for {
		page, next, err := c.RoomsPage(ctx, cursor, 0)
		if err != nil {
			return all, err
		}
		all = append(all, page...)
		if next == "" || next == cursor {
			return all, nil
		}
		cursor = next
	}
}

// RoomsPage returns one page of the caller's rooms starting at cursor ("" for the first) and
// the cursor of the next page, "" on the last one. limit 0 means the server's default.
func (c *Client) RoomsPage(ctx context.Context, cursor string, limit int) ([]plop.Room, string, error) {
	var out struct {
		Rooms      []plop.Room `json:"rooms"`
		NextCursor string      `json:"next_cursor"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "/rooms", query: pageQuery(cursor, limit), out: &out})
	return out.Rooms, out.NextCursor, err
}

// Room returns one room as the caller sees it.
func (c *Client) Room(ctx context.Context, roomID string) (plop.Room, error) {
	var out roomBody
	err := c.do(ctx, call{method: http.MethodGet, path: "/rooms/" + seg(roomID), out: &out})
	return out.Room, err
}

// RoomUpdate changes a group's name or the caller's mute flag; nil fields stay as they are.
type RoomUpdate struct {
	Name  *string `json:"name,omitempty"`
	Muted *bool   `json:"muted,omitempty"`
}

// UpdateRoom renames a group or mutes or unmutes a room for the caller.
func (c *Client) UpdateRoom(ctx context.Context, roomID string, upd RoomUpdate) (plop.Room, error) {
	var out roomBody
	err := c.do(ctx, call{method: http.MethodPatch, path: "/rooms/" + seg(roomID), in: upd, out: &out})
	return out.Room, err
}

// AddMembers adds users to a group and returns the room after the change (zero when the
// server answers without a body).
func (c *Client) AddMembers(ctx context.Context, roomID string, userIDs ...string) (plop.Room, error) {
	var out roomBody
	err := c.do(ctx, call{method: http.MethodPost, path: "/rooms/" + seg(roomID) + "/members",
		in: map[string][]string{"user_ids": userIDs}, out: &out})
	return out.Room, err
}

// RemoveMember removes a user from a group; removing oneself leaves it.
func (c *Client) RemoveMember(ctx context.Context, roomID, userID string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/rooms/" + seg(roomID) + "/members/" + seg(userID)})
}

// Messages returns up to limit messages of a room ascending by seq: the latest ones before
// `before` when before > 0, the earliest ones after `after` when after > 0, else the latest
// ones. limit 0 means the server's default.
func (c *Client) Messages(ctx context.Context, roomID string, before, after int64, limit int) ([]plop.Message, error) {
	q := url.Values{}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Messages []plop.Message `json:"messages"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "/rooms/" + seg(roomID) + "/messages", query: q, out: &out})
	return out.Messages, err
}

// NewMessage is a message to send.
type NewMessage struct {
	Body string `json:"body"`
	// ClientMsgID makes sending idempotent: sending again with the same id returns the
	// stored message instead of a second copy. SendMessage fills in a random one when empty;
	// set it yourself to retry safely.
	ClientMsgID   string   `json:"client_msg_id"`
	ReplyTo       *int64   `json:"reply_to,omitempty"` // seq of the message replied to
	AttachmentIDs []string `json:"attachment_ids,omitempty"`
}

// SendMessage posts a message to a room and returns it as stored, with its seq.
func (c *Client) SendMessage(ctx context.Context, roomID string, m NewMessage) (plop.Message, error) {
	if m.ClientMsgID == "" {
		m.ClientMsgID = uuid.NewString()
	}
	var out messageBody
	err := c.do(ctx, call{method: http.MethodPost, path: "/rooms/" + seg(roomID) + "/messages", in: m, out: &out})
	return out.Message, err
}

// EditMessage replaces the body of one of the caller's messages.
func (c *Client) EditMessage(ctx context.Context, roomID string, seq int64, body string) (plop.Message, error) {
	var out messageBody
	err := c.do(ctx, call{method: http.MethodPatch, path: messagePath(roomID, seq),
		in: map[string]string{"body": body}, out: &out})
	return out.Message, err
}

// DeleteMessage unsends one of the caller's messages and returns it as it now is (zero when
// the server answers without a body).
func (c *Client) DeleteMessage(ctx context.Context, roomID string, seq int64) (plop.Message, error) {
	var out messageBody
	err := c.do(ctx, call{method: http.MethodDelete, path: messagePath(roomID, seq), out: &out})
	return out.Message, err
}

// React adds the caller's emoji to a message.
func (c *Client) React(ctx context.Context, roomID string, seq int64, emoji string) error {
	return c.do(ctx, call{method: http.MethodPut, path: messagePath(roomID, seq) + "/reactions/" + seg(emoji)})
}

// Unreact removes the caller's emoji from a message.
func (c *Client) Unreact(ctx context.Context, roomID string, seq int64, emoji string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: messagePath(roomID, seq) + "/reactions/" + seg(emoji)})
}

// MarkRead moves the caller's read pointer in a room up to seq.
func (c *Client) MarkRead(ctx context.Context, roomID string, seq int64) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/rooms/" + seg(roomID) + "/read",
		in: map[string]int64{"seq": seq}})
}

func messagePath(roomID string, seq int64) string {
	return fmt.Sprintf("/rooms/%s/messages/%d", seg(roomID), seq)
}

// pageQuery is the query of a cursor-paginated list.
func pageQuery(cursor string, limit int) url.Values {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return q
}
