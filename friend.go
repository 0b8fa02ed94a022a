package plop

import (
	"context"
	"time"
)

// FriendRequest is a pending request from one user to another.
type FriendRequest struct {
	ID        string    `json:"id"`
	FromID    string    `json:"from_id"`
	ToID      string    `json:"to_id"`
	From      *User     `json:"from,omitempty"`
	To        *User     `json:"to,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Friend is one entry of a user's friends list.
type Friend struct {
	User     User      `json:"user"`
	Since    time.Time `json:"since"`
	Presence Presence  `json:"presence"`
}

// Request directions for FriendStore.FriendRequests.
const (
	Incoming = "incoming"
	Outgoing = "outgoing"
)

// FriendStore persists friend requests and friendships. Friendship is symmetric.
type FriendStore interface {
	// CreateFriendRequest stores r. Returns conflict when a request between the two users
	// already exists in either direction.
	CreateFriendRequest(ctx context.Context, r *FriendRequest) error
	// FriendRequest returns not_found.
	FriendRequest(ctx context.Context, id string) (FriendRequest, error)
	// FriendRequests lists the requests of userID in direction (Incoming or Outgoing), the
	// other party filled in, newest first, starting after cursor ("" for the first page).
	// It returns the cursor of the next page, "" on the last one.
	FriendRequests(ctx context.Context, userID, direction, cursor string, limit int) ([]FriendRequest, string, error)
	// AcceptFriendRequest deletes the request and makes its two users friends since now, in
	// one transaction. Returns not_found.
	AcceptFriendRequest(ctx context.Context, id string, now time.Time) error
	// DeleteFriendRequest returns not_found.
	DeleteFriendRequest(ctx context.Context, id string) error
	// Friends lists the friends of userID with their users, ordered by name, in one query.
	// Presence is left zero for the caller to fill.
	Friends(ctx context.Context, userID string) ([]Friend, error)
	// AreFriends reports whether a and b are friends.
	AreFriends(ctx context.Context, a, b string) (bool, error)
	// DeleteFriendship removes the friendship of a and b. Returns not_found.
	DeleteFriendship(ctx context.Context, a, b string) error
}

// BlockStore persists blocks. A block is one-way, but its effect (no messages, no friend
// requests) is checked in both directions by the services.
type BlockStore interface {
	// Block records that blocker blocks blocked, and in the same transaction removes any
	// friendship and pending friend request between them. Blocking twice is not an error.
	Block(ctx context.Context, blocker, blocked string, now time.Time) error
	// Unblock removes the block; unblocking a user who is not blocked is not an error.
	Unblock(ctx context.Context, blocker, blocked string) error
	// Blocked reports whether either user blocks the other.
	Blocked(ctx context.Context, a, b string) (bool, error)
}
