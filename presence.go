package plop

import (
	"context"
	"time"
)

// Presence says whether a user has a live connection, or when they last had one.
type Presence struct {
	UserID   string     `json:"user_id"`
	Online   bool       `json:"online"`
	LastSeen *time.Time `json:"last_seen"`
}

// PresenceStore counts live connections per user. The in-process implementation serves one
// node; the Redis one counts across nodes and expires the connections of a node that died.
type PresenceStore interface {
	// Connect records a live connection connID of userID and reports whether the user was
	// offline before it.
	Connect(ctx context.Context, userID, connID string, now time.Time) (cameOnline bool, err error)
	// Disconnect removes connID and reports whether it was the user's last connection; then
	// LastSeen becomes now.
	Disconnect(ctx context.Context, userID, connID string, now time.Time) (wentOffline bool, err error)
	// Presence returns one entry per id in ids, in the same order.
	Presence(ctx context.Context, ids []string) ([]Presence, error)
}
