package app

import (
	"context"

	"github.com/plop-chat/plop"
)

// Rooms are direct (one per pair of users) or groups. Every call below answers not_found for
// a room the caller is not a member of, whether or not it exists (see room_access.go).

// maxRoomName is the longest group name, in characters.
const maxRoomName = 64

// CreateRoom creates a group, or returns the direct room of the caller and one other user,
// created false when it existed already (the same pair always gets the same room).
//
// A direct room needs in.MemberIDs to name one verified user, not the caller, who is the
// caller's friend; neither may block the other. An existing direct room is returned even
// when the two are no longer friends. A group needs a name (1..64 characters); its members
// must be the caller's friends; the caller becomes its admin. Publishes room.created to the
// members of a new room.
// Returns invalid_argument, not_found (no such user) or forbidden.
func (a *App) CreateRoom(ctx context.Context, me string, in RoomInput) (room plop.Room, created bool, err error) {
	switch in.Type {
	case plop.RoomDirect:
		return a.createDirect(ctx, me, in)
	case plop.RoomGroup:
		r, err := a.createGroup(ctx, me, in)
		return r, err == nil, err
	default:
		return plop.Room{}, false, plop.Errorf(plop.EInvalid, "type must be direct or group")
	}
}

// Rooms lists the caller's rooms, latest activity first, as Room shows each.
func (a *App) Rooms(ctx context.Context, me string, p Page) (rooms []plop.Room, next string, err error) {
	rooms, next, err = a.store.Rooms(ctx, me, p.Cursor, plop.ClampLimit(p.Limit))
	if err != nil {
		return nil, "", err
	}
	out := make([]plop.Room, len(rooms))
	for i, r := range rooms {
		out[i] = a.presentRoom(r)
	}
	return out, next, nil
}

// Room returns one room of the caller: members with their public profiles, the last
// message, the caller's unread count and mute flag. Returns not_found.
func (a *App) Room(ctx context.Context, me, roomID string) (plop.Room, error) {
	r, err := a.roomFor(ctx, me, roomID)
	if err != nil {
		return plop.Room{}, err
	}
	return a.presentRoom(r), nil
}

// UpdateRoom renames a group or sets the caller's mute flag, and returns the room. Any
// member may mute a room; only a group's admin may rename it (when the last admin has left,
// the longest-standing member acts as admin). A rename publishes room.updated.
// Returns not_found, invalid_argument (a direct room has no name) or forbidden.
func (a *App) UpdateRoom(ctx context.Context, me, roomID string, upd RoomUpdate) (plop.Room, error) {
	r, err := a.roomFor(ctx, me, roomID)
	if err != nil {
		return plop.Room{}, err
	}
	var name *string
	if upd.Name != nil {
		if r.Type != plop.RoomGroup {
			return plop.Room{}, plop.Errorf(plop.EInvalid, "a direct room cannot be renamed")
		}
		n, err := cleanText("name", *upd.Name, 1, maxRoomName)
		if err != nil {
			return plop.Room{}, err
		}
		if !isAdmin(r.Members, me) {
			return plop.Room{}, plop.Errorf(plop.EForbidden, "only an admin may rename the group")
		}
		name = &n
	}
	if name == nil && upd.Muted == nil {
		return a.presentRoom(r), nil
	}
	if err := a.store.UpdateRoom(ctx, roomID, me, name, upd.Muted, a.clock()); err != nil {
		return plop.Room{}, err
	}
	if r, err = a.store.Room(ctx, roomID, me); err != nil {
		return plop.Room{}, err
	}
	if name != nil {
		a.publishRoom(ctx, plop.EventRoomUpdated, roomID, 0, memberIDs(r.Members),
			roomEvent{Type: plop.EventRoomUpdated, Room: a.sharedRoom(r)})
	}
	return a.presentRoom(r), nil
}

// AuthorizeRoom returns nil when the caller is a member of the room (and so may subscribe to
// its topic), and not_found otherwise.
func (a *App) AuthorizeRoom(ctx context.Context, me, roomID string) error {
	if checkID("room id", roomID) != nil {
		return errNoRoom()
	}
	if _, err := a.store.Member(ctx, roomID, me); err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			return errNoRoom()
		}
		return err
	}
	return nil
}
