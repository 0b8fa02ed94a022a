package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/plop-chat/plop"
)

// SendFriendRequest asks another user, named by id or e-mail, to be friends.
// Returns invalid_argument, not_found, forbidden (a block stands between the two) or conflict
// (already friends, or a request exists either way).
func (a *App) SendFriendRequest(ctx context.Context, me string, in FriendRequestInput) (plop.FriendRequest, error) {
	var to plop.User
	var err error
	switch {
	case in.UserID != "":
		if err := checkID("user_id", in.UserID); err != nil {
			return plop.FriendRequest{}, err
		}
		to, err = a.store.UserByID(ctx, in.UserID)
	case in.Email != "":
		var email string
		if email, err = normalizeEmail(in.Email); err != nil {
			return plop.FriendRequest{}, err
		}
		to, err = a.store.UserByEmail(ctx, email)
	default:
		return plop.FriendRequest{}, plop.Errorf(plop.EInvalid, "user_id or email is required")
	}
	if err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			return plop.FriendRequest{}, plop.Errorf(plop.ENotFound, "no such user")
		}
		return plop.FriendRequest{}, err
	}
	if !to.Verified {
		return plop.FriendRequest{}, plop.Errorf(plop.ENotFound, "no such user")
	}
	if to.ID == me {
		return plop.FriendRequest{}, plop.Errorf(plop.EInvalid, "you cannot befriend yourself")
	}
	if err := a.checkNotBlocked(ctx, me, to.ID); err != nil {
		return plop.FriendRequest{}, err
	}
	friends, err := a.store.AreFriends(ctx, me, to.ID)
	if err != nil {
		return plop.FriendRequest{}, err
	}
	if friends {
		return plop.FriendRequest{}, plop.Errorf(plop.EConflict, "you are friends already")
	}
	from, err := a.store.UserByID(ctx, me)
	if err != nil {
		return plop.FriendRequest{}, err
	}
	r := plop.FriendRequest{
		ID:        uuid.Must(uuid.NewV7()).String(),
		FromID:    me,
		ToID:      to.ID,
		CreatedAt: a.clock(),
	}
	if err := a.store.CreateFriendRequest(ctx, &r); err != nil {
		if plop.ErrorCode(err) == plop.EConflict {
			return plop.FriendRequest{}, plop.Errorf(plop.EConflict, "a friend request between you exists already")
		}
		return plop.FriendRequest{}, err
	}
	fromPub, toPub := a.withAvatarURL(from.Public()), a.withAvatarURL(to.Public())
	r.From, r.To = &fromPub, &toPub
	a.publish(ctx, plop.Event{Type: plop.EventFriendRequest, UserIDs: []string{to.ID}},
		friendRequestEvent{Type: plop.EventFriendRequest, Request: r})
	return r, nil
}

// checkNotBlocked returns forbidden when either user blocks the other.
func (a *App) checkNotBlocked(ctx context.Context, me, other string) error {
	blocked, err := a.store.Blocked(ctx, me, other)
	if err != nil {
		return err
	}
	if blocked {
		return plop.Errorf(plop.EForbidden, "you cannot interact with this user")
	}
	return nil
}

// FriendRequests lists the caller's incoming or outgoing requests, newest first.
func (a *App) FriendRequests(ctx context.Context, me, direction string, p Page) ([]plop.FriendRequest, string, error) {
	switch direction {
	case "":
		direction = plop.Incoming
	case plop.Incoming, plop.Outgoing:
	default:
		return nil, "", plop.Errorf(plop.EInvalid, "direction must be incoming or outgoing")
	}
	reqs, next, err := a.store.FriendRequests(ctx, me, direction, p.Cursor, plop.ClampLimit(p.Limit))
	if err != nil {
		return nil, "", err
	}
	for i := range reqs {
		if u := reqs[i].From; u != nil {
			pub := a.withAvatarURL(u.Public())
			reqs[i].From = &pub
		}
		if u := reqs[i].To; u != nil {
			pub := a.withAvatarURL(u.Public())
			reqs[i].To = &pub
		}
	}
	return reqs, next, nil
}

// AcceptFriendRequest accepts a request sent to the caller and returns the new friend.
// Returns not_found or forbidden (a block stands between the two).
func (a *App) AcceptFriendRequest(ctx context.Context, me, id string) (plop.Friend, error) {
	r, err := a.requestFor(ctx, id, func(r plop.FriendRequest) bool { return r.ToID == me })
	if err != nil {
		return plop.Friend{}, err
	}
	if err := a.checkNotBlocked(ctx, me, r.FromID); err != nil {
		return plop.Friend{}, err
	}
	now := a.clock()
	err = a.store.AcceptFriendRequest(ctx, id, now)
	a.friendsChanged(ctx, r.FromID, r.ToID)
	if err != nil {
		return plop.Friend{}, err
	}
	users, err := a.store.UsersByIDs(ctx, []string{r.FromID, r.ToID})
	if err != nil {
		return plop.Friend{}, err
	}
	byID := make(map[string]plop.User, 2)
	for _, u := range users {
		byID[u.ID] = a.withAvatarURL(u.Public())
	}
	pres, err := a.presence.Presence(ctx, []string{r.FromID, r.ToID})
	if err != nil {
		return plop.Friend{}, fmt.Errorf("load presence: %w", err)
	}
	asSeenBy := func(viewer string) plop.Friend {
		other, p := r.FromID, pres[0]
		if viewer == r.FromID {
			other, p = r.ToID, pres[1]
		}
		return plop.Friend{User: byID[other], Since: now, Presence: p}
	}
	for _, viewer := range []string{r.FromID, r.ToID} {
		a.publish(ctx, plop.Event{Type: plop.EventFriendAccepted, UserIDs: []string{viewer}},
			friendAcceptedEvent{Type: plop.EventFriendAccepted, Friend: asSeenBy(viewer)})
	}
	return asSeenBy(me), nil
}

// DeclineFriendRequest declines a request sent to the caller, or withdraws one the caller
// sent. Returns not_found.
func (a *App) DeclineFriendRequest(ctx context.Context, me, id string) error {
	if _, err := a.requestFor(ctx, id, func(r plop.FriendRequest) bool { return r.ToID == me || r.FromID == me }); err != nil {
		return err
	}
	return a.store.DeleteFriendRequest(ctx, id)
}

// requestFor loads a request the caller may act on; any other is not_found.
func (a *App) requestFor(ctx context.Context, id string, mine func(plop.FriendRequest) bool) (plop.FriendRequest, error) {
	notFound := plop.Errorf(plop.ENotFound, "no such friend request")
	if checkID("request id", id) != nil {
		return plop.FriendRequest{}, notFound
	}
	r, err := a.store.FriendRequest(ctx, id)
	if err != nil {
		if plop.ErrorCode(err) == plop.ENotFound {
			return plop.FriendRequest{}, notFound
		}
		return plop.FriendRequest{}, err
	}
	if !mine(r) {
		return plop.FriendRequest{}, notFound
	}
	return r, nil
}

// Friends lists the caller's friends with their presence, ordered by name.
func (a *App) Friends(ctx context.Context, me string) ([]plop.Friend, error) {
	friends, err := a.store.Friends(ctx, me)
	if err != nil {
		return nil, err
	}
	if len(friends) == 0 {
		return []plop.Friend{}, nil
	}
	ids := make([]string, len(friends))
	for i, f := range friends {
		ids[i] = f.User.ID
	}
	pres, err := a.presence.Presence(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load presence: %w", err)
	}
	for i := range friends {
		friends[i].User = a.withAvatarURL(friends[i].User.Public())
		friends[i].Presence = pres[i]
	}
	return friends, nil
}

// AppendFriendsJSON appends to dst the caller's friends with their presence, ordered by
// name, as the JSON array of plop.Friend that encoding/json would give for Friends. The
// profiles come from the friends cache; presence is always current.
func (a *App) AppendFriendsJSON(ctx context.Context, dst []byte, me string) ([]byte, error) {
	l, err := a.friendsList(ctx, me)
	if err != nil {
		return dst, err
	}
	if len(l.friends) == 0 {
		return append(dst, "[]"...), nil
	}
	ids := make([]string, len(l.friends))
	for i, f := range l.friends {
		ids[i] = f.profile.Value().id
	}
	pres, err := a.presence.Presence(ctx, ids)
	if err != nil {
		return dst, fmt.Errorf("load presence: %w", err)
	}
	if len(pres) != len(ids) {
		return dst, fmt.Errorf("load presence: %d answers for %d users", len(pres), len(ids))
	}
	dst = append(dst, '[')
	for i, f := range l.friends {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"user":`...)
		dst = append(dst, f.profile.Value().json...)
		dst = append(dst, `,"since":`...)
		dst = append(dst, f.since...)
		dst = append(dst, `,"presence":`...)
		dst = appendPresenceJSON(dst, pres[i])
		dst = append(dst, '}')
	}
	return append(dst, ']'), nil
}

// Unfriend ends a friendship. Returns not_found when the two are not friends.
func (a *App) Unfriend(ctx context.Context, me, other string) error {
	if checkID("user id", other) != nil {
		return plop.Errorf(plop.ENotFound, "you are not friends")
	}
	err := a.store.DeleteFriendship(ctx, me, other)
	a.friendsChanged(ctx, me, other)
	return err
}

// Block stops another user from messaging or befriending the caller, and ends any friendship
// and pending request between them. Returns not_found or invalid_argument.
func (a *App) Block(ctx context.Context, me, other string) error {
	if checkID("user id", other) != nil {
		return plop.Errorf(plop.ENotFound, "no such user")
	}
	if other == me {
		return plop.Errorf(plop.EInvalid, "you cannot block yourself")
	}
	if _, err := a.store.UserByID(ctx, other); err != nil {
		return err
	}
	err := a.store.Block(ctx, me, other, a.clock())
	a.friendsChanged(ctx, me, other)
	return err
}

// Unblock lifts a block the caller set.
func (a *App) Unblock(ctx context.Context, me, other string) error {
	if checkID("user id", other) != nil {
		return plop.Errorf(plop.ENotFound, "no such user")
	}
	err := a.store.Unblock(ctx, me, other)
	a.friendsChanged(ctx, me, other)
	return err
}
