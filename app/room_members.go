package app

import (
	"context"
	"slices"

	"github.com/plop-chat/plop"
)

// AddMembers adds friends of the caller to a group and returns the room. Any member may add
// their own friends; users who are members already are skipped. Publishes member.added with
// the new members to every member, new ones included.
// Returns not_found, invalid_argument (a direct room, too many members) or forbidden (not a
// friend of the caller).
func (a *App) AddMembers(ctx context.Context, me, roomID string, userIDs []string) (plop.Room, error) {
	r, err := a.roomFor(ctx, me, roomID)
	if err != nil {
		return plop.Room{}, err
	}
	if r.Type != plop.RoomGroup {
		return plop.Room{}, plop.Errorf(plop.EInvalid, "members of a direct room cannot change")
	}
	if len(userIDs) == 0 {
		return plop.Room{}, plop.Errorf(plop.EInvalid, "user_ids is required")
	}
	ids, err := otherIDs(me, userIDs)
	if err != nil {
		return plop.Room{}, err
	}
	current := memberIDs(r.Members)
	ids = slices.DeleteFunc(ids, func(id string) bool { return slices.Contains(current, id) })
	if len(ids) == 0 {
		return a.presentRoom(r), nil
	}
	if len(current)+len(ids) > a.cfg.MaxGroupMembers {
		return plop.Room{}, plop.Errorf(plop.EInvalid, "a group has at most %d members", a.cfg.MaxGroupMembers)
	}
	if err := a.checkFriends(ctx, me, ids); err != nil {
		return plop.Room{}, err
	}
	now := a.clock()
	add := make([]plop.Member, len(ids))
	for i, id := range ids {
		add[i] = plop.Member{UserID: id, Role: plop.RoleMember, JoinedAt: now}
	}
	added, err := a.store.AddMembers(ctx, roomID, add, now)
	if err != nil {
		return plop.Room{}, err
	}
	if r, err = a.store.Room(ctx, roomID, me); err != nil {
		return plop.Room{}, err
	}
	r = a.presentRoom(r)
	if len(added) > 0 {
		isNew := make(map[string]bool, len(added))
		for _, m := range added {
			isNew[m.UserID] = true
		}
		newMembers := make([]plop.Member, 0, len(added))
		for _, m := range r.Members {
			if isNew[m.UserID] {
				newMembers = append(newMembers, m)
			}
		}
		a.publishRoom(ctx, plop.EventMemberAdded, roomID, 0, memberIDs(r.Members),
			memberAddedEvent{Type: plop.EventMemberAdded, RoomID: roomID, Members: newMembers})
	}
	return r, nil
}

// RemoveMember removes userID from a group: the caller leaves when userID is the caller;
// removing anyone else takes an admin (when the last admin has left, the longest-standing
// member acts as admin). Publishes member.removed to the remaining members and to the
// removed user.
// Returns not_found (no such room, or userID is not a member), invalid_argument (a direct
// room) or forbidden.
func (a *App) RemoveMember(ctx context.Context, me, roomID, userID string) error {
	r, err := a.roomFor(ctx, me, roomID)
	if err != nil {
		return err
	}
	if r.Type != plop.RoomGroup {
		return plop.Errorf(plop.EInvalid, "members of a direct room cannot change")
	}
	current := memberIDs(r.Members)
	if !slices.Contains(current, userID) {
		return plop.Errorf(plop.ENotFound, "no such member")
	}
	if userID != me && !isAdmin(r.Members, me) {
		return plop.Errorf(plop.EForbidden, "only an admin may remove members")
	}
	if err := a.store.RemoveMember(ctx, roomID, userID, a.clock()); err != nil {
		return err
	}
	// The removed user is told too: their clients drop the room.
	a.publishRoom(ctx, plop.EventMemberRemoved, roomID, 0, current,
		memberRemovedEvent{Type: plop.EventMemberRemoved, RoomID: roomID, UserID: userID})
	return nil
}
