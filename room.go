package plop

import (
	"context"
	"time"
)

// Room types.
const (
	RoomDirect = "direct"
	RoomGroup  = "group"
)

// Member roles.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Room is a conversation: a direct room between two users or a named group.
// Members, LastMessage, UnreadCount, Muted and LastReadSeq are as seen by one user.
type Room struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Name        string    `json:"name"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"` // latest activity: the last message or change
	LastSeq     int64     `json:"last_seq"`
	Members     []Member  `json:"members"`
	LastMessage *Message  `json:"last_message"`
	UnreadCount int64     `json:"unread_count"`
	Muted       bool      `json:"muted"`

	DirectKey string `json:"-"` // for direct rooms: the two user ids, sorted, joined by ":"
}

// Member is a user's membership of a room.
type Member struct {
	UserID      string    `json:"user_id"`
	Role        string    `json:"role"`
	JoinedAt    time.Time `json:"joined_at"`
	LastReadSeq int64     `json:"last_read_seq"`
	Muted       bool      `json:"-"`
	User        *User     `json:"user,omitempty"`
}

// RoomStore persists rooms and memberships.
type RoomStore interface {
	// CreateRoom stores r with its members (r.Members: UserID, Role, JoinedAt). For a direct
	// room whose DirectKey exists already it stores nothing and returns the existing room's id
	// with created false.
	CreateRoom(ctx context.Context, r *Room) (id string, created bool, err error)
	// Room returns the room as seen by userID: members with their users, last message,
	// unread count, mute flag. Returns not_found when the room does not exist or userID is not
	// a member.
	Room(ctx context.Context, roomID, userID string) (Room, error)
	// Rooms lists the rooms of userID as Room does, latest activity first, starting after
	// cursor; it returns the next cursor, "" on the last page.
	Rooms(ctx context.Context, userID, cursor string, limit int) ([]Room, string, error)
	// Member returns the membership of userID in roomID; not_found if not a member.
	Member(ctx context.Context, roomID, userID string) (Member, error)
	// MemberIDs returns the ids of the room's members.
	MemberIDs(ctx context.Context, roomID string) ([]string, error)
	// UpdateRoom changes the room's name (nil: unchanged) and, for userID, the mute flag
	// (nil: unchanged), then touches UpdatedAt when the name changed.
	UpdateRoom(ctx context.Context, roomID, userID string, name *string, muted *bool, now time.Time) error
	// AddMembers adds members that are not members yet and returns those added.
	AddMembers(ctx context.Context, roomID string, members []Member, now time.Time) ([]Member, error)
	// RemoveMember returns not_found when userID is not a member.
	RemoveMember(ctx context.Context, roomID, userID string, now time.Time) error
	// MarkRead moves userID's read pointer in roomID up to seq (never down, never past the
	// room's last seq) and returns the pointer after the move.
	MarkRead(ctx context.Context, roomID, userID string, seq int64) (int64, error)
}
