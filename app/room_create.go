package app

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/plop-chat/plop"
)

// createDirect returns the direct room of me and the one other user of in.MemberIDs,
// creating it when the two are friends; see CreateRoom.
func (a *App) createDirect(ctx context.Context, me string, in RoomInput) (plop.Room, bool, error) {
	others, err := otherIDs(me, in.MemberIDs)
	if err != nil {
		return plop.Room{}, false, err
	}
	switch {
	case len(others) == 0 && len(in.MemberIDs) > 0:
		return plop.Room{}, false, plop.Errorf(plop.EInvalid, "you cannot open a direct room with yourself")
	case len(others) != 1:
		return plop.Room{}, false, plop.Errorf(plop.EInvalid, "a direct room needs exactly one other member in member_ids")
	}
	other := others[0]
	if in.Name != "" {
		return plop.Room{}, false, plop.Errorf(plop.EInvalid, "a direct room has no name")
	}
	u, err := a.store.UserByID(ctx, other)
	if err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			return plop.Room{}, false, plop.Errorf(plop.ENotFound, "no such user")
		}
		return plop.Room{}, false, err
	}
	if !u.Verified {
		return plop.Room{}, false, plop.Errorf(plop.ENotFound, "no such user")
	}
	if err := a.checkNotBlocked(ctx, me, other); err != nil {
		return plop.Room{}, false, err
	}
	id := directRoomID(me, other)
	friends, err := a.store.AreFriends(ctx, me, other)
	if err != nil {
		return plop.Room{}, false, err
	}
	if !friends {
		// Former friends keep the room they had; nobody else may open one.
		if r, err := a.store.Room(ctx, id, me); err == nil {
			return a.presentRoom(r), false, nil
		} else if plop.ErrorCode(err) != plop.ENotFound {
			return plop.Room{}, false, err
		}
		return plop.Room{}, false, plop.Errorf(plop.EForbidden, "you can start a conversation only with a friend")
	}
	now := a.clock()
	r := plop.Room{
		ID:        id,
		Type:      plop.RoomDirect,
		CreatedBy: me,
		CreatedAt: now,
		UpdatedAt: now,
		DirectKey: directKey(me, other),
		Members: []plop.Member{
			{UserID: me, Role: plop.RoleMember, JoinedAt: now},
			{UserID: other, Role: plop.RoleMember, JoinedAt: now},
		},
	}
	return a.storeRoom(ctx, me, &r)
}

// createGroup creates a group of me (its admin) and friends of me; see CreateRoom.
func (a *App) createGroup(ctx context.Context, me string, in RoomInput) (plop.Room, error) {
	name, err := cleanText("name", in.Name, 1, maxRoomName)
	if err != nil {
		return plop.Room{}, err
	}
	others, err := otherIDs(me, in.MemberIDs)
	if err != nil {
		return plop.Room{}, err
	}
	if len(others)+1 > a.cfg.MaxGroupMembers {
		return plop.Room{}, plop.Errorf(plop.EInvalid, "a group has at most %d members", a.cfg.MaxGroupMembers)
	}
	if err := a.checkFriends(ctx, me, others); err != nil {
		return plop.Room{}, err
	}
	now := a.clock()
	r := plop.Room{
		ID:        uuid.Must(uuid.NewV7()).String(),
		Type:      plop.RoomGroup,
		Name:      name,
		CreatedBy: me,
		CreatedAt: now,
		UpdatedAt: now,
		Members:   make([]plop.Member, 0, len(others)+1),
	}
	r.Members = append(r.Members, plop.Member{UserID: me, Role: plop.RoleAdmin, JoinedAt: now})
	for _, id := range others {
		r.Members = append(r.Members, plop.Member{UserID: id, Role: plop.RoleMember, JoinedAt: now})
	}
	room, _, err := a.storeRoom(ctx, me, &r)
	return room, err
}

// storeRoom stores r, loads it as me sees it and, when it is new, tells its members.
func (a *App) storeRoom(ctx context.Context, me string, r *plop.Room) (plop.Room, bool, error) {
	id, created, err := a.store.CreateRoom(ctx, r)
	if err != nil {
		return plop.Room{}, false, err
	}
	room, err := a.store.Room(ctx, id, me)
	if err != nil {
		return plop.Room{}, false, err
	}
	if created {
		a.publishRoom(ctx, plop.EventRoomCreated, room.ID, 0, memberIDs(room.Members),
			roomEvent{Type: plop.EventRoomCreated, Room: a.sharedRoom(room)})
	}
	return a.presentRoom(room), created, nil
}

// otherIDs returns ids without me and without repeats, checking that each can be an id.
func otherIDs(me string, ids []string) ([]string, error) {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if err := checkID("member id", id); err != nil {
			return nil, err
		}
		if id != me && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// checkFriends returns forbidden unless every one of ids is a friend of me. Friends are
// verified users with no block between them and me (a block ends a friendship).
func (a *App) checkFriends(ctx context.Context, me string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	friends, err := a.store.Friends(ctx, me)
	if err != nil {
		return err
	}
	isFriend := make(map[string]bool, len(friends))
	for _, f := range friends {
		isFriend[f.User.ID] = true
	}
	for _, id := range ids {
		if !isFriend[id] {
			return plop.Errorf(plop.EForbidden, "you can add only your friends (user %s is not one)", id)
		}
	}
	return nil
}
