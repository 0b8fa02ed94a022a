package app

import (
	"context"
	"slices"

	"github.com/plop-chat/plop"
)

// Access to rooms follows one rule everywhere: a room the caller is not a member of does not
// exist for them. Every room call answers not_found for it, whether the room exists or not,
// so that nobody learns which rooms exist by guessing ids.

// errNoRoom is the one answer for a room the caller is not in, or that does not exist.
func errNoRoom() error { return plop.Errorf(plop.ENotFound, "no such room") }

// roomMembers returns the ids of the members of roomID in one query. It is the single place
// where the hot paths (send, typing, edit, react) learn who is in a room, both to check the
// caller's membership and to address the event, so a member cache can be put here later.
func (a *App) roomMembers(ctx context.Context, roomID string) ([]string, error) {
	return a.store.MemberIDs(ctx, roomID)
}

// membersIfIn returns the members of roomID when me is one of them, and not_found otherwise.
func (a *App) membersIfIn(ctx context.Context, me, roomID string) ([]string, error) {
	if checkID("room id", roomID) != nil {
		return nil, errNoRoom()
	}
	ids, err := a.roomMembers(ctx, roomID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(ids, me) {
		return nil, errNoRoom()
	}
	return ids, nil
}

// roomFor loads roomID as seen by me: not_found when it does not exist or me is not a member.
func (a *App) roomFor(ctx context.Context, me, roomID string) (plop.Room, error) {
	if checkID("room id", roomID) != nil {
		return plop.Room{}, errNoRoom()
	}
	r, err := a.store.Room(ctx, roomID, me)
	if err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			return plop.Room{}, errNoRoom()
		}
		return plop.Room{}, err
	}
	return r, nil
}

// checkWritable returns forbidden when roomID is a direct room whose two members block each
// other (either way). members are the room's member ids; groups are always writable.
func (a *App) checkWritable(ctx context.Context, roomID string, members []string) error {
	if len(members) != 2 || !isDirectRoom(roomID, members[0], members[1]) {
		return nil
	}
	blocked, err := a.store.Blocked(ctx, members[0], members[1])
	if err != nil {
		return err
	}
	if blocked {
		return plop.Errorf(plop.EForbidden, "you cannot message this person")
	}
	return nil
}
