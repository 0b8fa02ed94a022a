package app

import (
	"encoding/json"

	"github.com/plop-chat/plop"
)

// SignupInput is a new account's request.
type SignupInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// Tokens is what a successful verification, login or refresh returns.
type Tokens struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	TokenType    string    `json:"token_type"`
	ExpiresIn    int       `json:"expires_in"` // seconds until the access token expires
	User         plop.User `json:"user"`
}

// Identity is the authenticated caller of a request or connection.
type Identity struct {
	UserID    string
	SessionID string
}

// ProfileUpdate changes the caller's profile; nil fields stay as they are.
type ProfileUpdate struct {
	Name          *string `json:"name"`
	StatusMessage *string `json:"status_message"`
}

// FriendRequestInput names the person to befriend, by id or by e-mail.
type FriendRequestInput struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
}

// DeviceInput registers a push target.
type DeviceInput struct {
	Platform     string          `json:"platform"`
	Token        string          `json:"token"`
	Subscription json.RawMessage `json:"subscription"`
}

// RoomInput creates a room.
type RoomInput struct {
	Type      string   `json:"type"`
	Name      string   `json:"name"`
	MemberIDs []string `json:"member_ids"`
}

// RoomUpdate changes a room's name (groups, admins) or the caller's mute flag.
type RoomUpdate struct {
	Name  *string `json:"name"`
	Muted *bool   `json:"muted"`
}

// MessageInput is a message to send, over REST or STOMP.
type MessageInput struct {
	Body          string   `json:"body"`
	ClientMsgID   string   `json:"client_msg_id"`
	ReplyTo       *int64   `json:"reply_to"`
	AttachmentIDs []string `json:"attachment_ids"`
}

// Page is a cursor-paginated request.
type Page struct {
	Cursor string
	Limit  int
}
