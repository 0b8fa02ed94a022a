package plop

import (
	"context"
	"time"
)

// User is an account. Email is shown only to its owner (see Public).
type User struct {
	ID            string     `json:"id"`
	Email         string     `json:"email,omitempty"`
	Name          string     `json:"name"`
	StatusMessage string     `json:"status_message"`
	AvatarURL     string     `json:"avatar_url,omitempty"`
	Verified      bool       `json:"verified"`
	CreatedAt     time.Time  `json:"created_at"`
	LastSeen      *time.Time `json:"-"`

	PasswordHash string `json:"-"`
	AvatarKey    string `json:"-"` // blob key of the avatar image; "" when none
}

// Public returns the user as other people see it: without the e-mail address.
func (u User) Public() User {
	u.Email = ""
	return u
}

// UserUpdate is a partial update of a user; nil fields are left as they are.
type UserUpdate struct {
	Name          *string
	StatusMessage *string
	AvatarKey     *string
	Verified      *bool
	PasswordHash  *string
}

// UserStore persists accounts.
type UserStore interface {
	// CreateUser stores u (ID, Email, Name, PasswordHash, CreatedAt set by the caller).
	// Returns conflict when the e-mail is taken.
	CreateUser(ctx context.Context, u *User) error
	// UserByID returns not_found when there is no such user.
	UserByID(ctx context.Context, id string) (User, error)
	// UserByEmail looks up a normalized (lower-case) e-mail. Returns not_found.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UsersByIDs returns the users that exist among ids, in no particular order.
	UsersByIDs(ctx context.Context, ids []string) ([]User, error)
	// UpdateUser applies upd and returns the updated user. Returns not_found.
	UpdateUser(ctx context.Context, id string, upd UserUpdate) (User, error)
	// SearchUsers returns verified users whose e-mail equals q or whose name starts with q
	// (case-insensitive), at most limit, ordered by name.
	SearchUsers(ctx context.Context, q string, limit int) ([]User, error)
}
