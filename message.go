package plop

import (
	"context"
	"time"
)

// Limits of a message.
const (
	MaxMessageBody     = 8000 // bytes of UTF-8
	MaxClientMsgID     = 64
	MaxReactionEmoji   = 32 // bytes
	MaxAttachmentsSent = 10
)

// Message is one message of a room. Seq numbers the room's messages 1, 2, 3 ... with no gaps.
type Message struct {
	ID            string       `json:"id"`
	RoomID        string       `json:"room_id"`
	Seq           int64        `json:"seq"`
	SenderID      string       `json:"sender_id"`
	Body          string       `json:"body"`
	ClientMsgID   string       `json:"client_msg_id"`
	ReplyTo       *int64       `json:"reply_to"` // seq of the message replied to
	Reactions     []Reaction   `json:"reactions"`
	Attachments   []Attachment `json:"attachments"`
	AttachmentIDs []string     `json:"-"`
	CreatedAt     time.Time    `json:"created_at"`
	EditedAt      *time.Time   `json:"edited_at"`
	Deleted       bool         `json:"deleted"`
}

// Reaction is one emoji on a message with the users who chose it.
type Reaction struct {
	Emoji   string   `json:"emoji"`
	Count   int      `json:"count"`
	UserIDs []string `json:"user_ids"`
}

// Attachment is an uploaded image or file that a message refers to.
type Attachment struct {
	ID           string    `json:"id"`
	RoomID       string    `json:"-"`
	UploaderID   string    `json:"-"`
	Kind         string    `json:"kind"` // "image" or "file"
	Name         string    `json:"name"`
	ContentType  string    `json:"content_type"`
	Size         int64     `json:"size"`
	Width        int       `json:"width,omitempty"`
	Height       int       `json:"height,omitempty"`
	URL          string    `json:"url"`
	ThumbnailURL string    `json:"thumbnail_url,omitempty"`
	CreatedAt    time.Time `json:"created_at"`

	MessageSeq   int64  `json:"-"` // seq of the message that carries it; 0 while unattached
	BlobKey      string `json:"-"` // blob key of the bytes
	ThumbnailKey string `json:"-"` // blob key of the thumbnail of an image; "" for files
}

// MessageStore persists messages.
type MessageStore interface {
	// CreateMessage stores m with the room's next seq, in one transaction that also advances
	// the room's last seq and activity time and the sender's read pointer. When the sender
	// already sent a message with m.ClientMsgID in this room it stores nothing and returns
	// that message with created false. m.AttachmentIDs (attachments uploaded to the room
	// by the sender that no message took yet) are linked to the message in the same
	// transaction; when one is not such an attachment nothing is stored and the error is
	// invalid_argument. The stored message carries its attachments.
	CreateMessage(ctx context.Context, m *Message) (stored Message, created bool, err error)
	// Message returns one message by seq. Returns not_found.
	Message(ctx context.Context, roomID string, seq int64) (Message, error)
	// Messages returns up to limit messages ascending by seq: the latest ones before `before`
	// when before > 0, the earliest ones after `after` when after > 0, else the latest ones.
	Messages(ctx context.Context, roomID string, before, after int64, limit int) ([]Message, error)
	// EditMessage replaces the body and sets EditedAt. Returns not_found.
	EditMessage(ctx context.Context, roomID string, seq int64, body string, now time.Time) (Message, error)
	// DeleteMessage marks the message deleted and clears its body, reactions and attachments.
	DeleteMessage(ctx context.Context, roomID string, seq int64, now time.Time) (Message, error)
	// SetReaction adds (on) or removes userID's emoji on a message and returns the message's
	// reactions after the change. Returns not_found.
	SetReaction(ctx context.Context, roomID string, seq int64, userID, emoji string, on bool, now time.Time) ([]Reaction, error)
}
