package app

import (
	"context"
	"fmt"

	"github.com/plop-chat/plop"
)

// Presence returns the presence of those of ids who are the caller's friends, in the order
// asked. Returns invalid_argument.
func (a *App) Presence(ctx context.Context, me string, ids []string) ([]plop.Presence, error) {
	if len(ids) > plop.MaxPageSize {
		return nil, plop.Errorf(plop.EInvalid, "at most %d user ids", plop.MaxPageSize)
	}
	friends, err := a.store.Friends(ctx, me)
	if err != nil {
		return nil, err
	}
	isFriend := make(map[string]bool, len(friends))
	for _, f := range friends {
		isFriend[f.User.ID] = true
	}
	var asked []string
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if isFriend[id] && !seen[id] {
			seen[id] = true
			asked = append(asked, id)
		}
	}
	if len(asked) == 0 {
		return []plop.Presence{}, nil
	}
	return a.presence.Presence(ctx, asked)
}

// Connected records a live connection of the caller; the first one tells their friends they
// are online.
func (a *App) Connected(ctx context.Context, me, connID string) error {
	came, err := a.presence.Connect(ctx, me, connID, a.clock())
	if err != nil {
		return fmt.Errorf("record connection: %w", err)
	}
	if came {
		a.announcePresence(ctx, plop.Presence{UserID: me, Online: true})
	}
	return nil
}

// Disconnected records that a connection of the caller closed; the last one tells their
// friends when they were last seen.
func (a *App) Disconnected(ctx context.Context, me, connID string) error {
	now := a.clock()
	went, err := a.presence.Disconnect(ctx, me, connID, now)
	if err != nil {
		return fmt.Errorf("record disconnection: %w", err)
	}
	if went {
		a.announcePresence(ctx, plop.Presence{UserID: me, Online: false, LastSeen: &now})
	}
	return nil
}

func (a *App) announcePresence(ctx context.Context, p plop.Presence) {
	ids, err := a.friendIDs(ctx, p.UserID)
	if err != nil {
		a.log.WarnContext(ctx, "load friends for presence", "user_id", p.UserID, "err", err)
		return
	}
	if len(ids) == 0 {
		return
	}
	a.publish(ctx, plop.Event{Type: plop.EventPresence, UserIDs: ids}, presenceEvent{Type: plop.EventPresence, Presence: p})
}

// friendIDs returns the ids of me's friends.
func (a *App) friendIDs(ctx context.Context, me string) ([]string, error) {
	friends, err := a.store.Friends(ctx, me)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(friends))
	for i, f := range friends {
		ids[i] = f.User.ID
	}
	return ids, nil
}
