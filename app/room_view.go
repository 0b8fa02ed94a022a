package app

import (
	"slices"

	"github.com/plop-chat/plop"
)

// presentRoom prepares a room for clients: members' public profiles with avatar URLs, the
// effective admin marked (see admins), and lists that encode as [] rather than null.
func (a *App) presentRoom(r plop.Room) plop.Room {
	members := make([]plop.Member, len(r.Members))
	copy(members, r.Members)
	for i := range members {
		if u := members[i].User; u != nil {
			pub := a.withAvatarURL(u.Public())
			members[i].User = &pub
		}
	}
	if r.Type == plop.RoomGroup {
		if admin, ok := fallbackAdmin(members); ok {
			members[admin].Role = plop.RoleAdmin
		}
	}
	r.Members = members
	if r.LastMessage != nil {
		m := a.presentMessage(*r.LastMessage)
		r.LastMessage = &m
	}
	return r
}

// sharedRoom is a room as every member sees it, for room events: no unread count, no mute.
func (a *App) sharedRoom(r plop.Room) plop.Room {
	r = a.presentRoom(r)
	r.UnreadCount = 0
	r.Muted = false
	return r
}

// fallbackAdmin returns the index of the member who acts as the group's admin when no
// member holds the admin role any more (the last admin left): the longest-standing member,
// the lowest user id breaking a tie. ok is false when an admin remains or there is nobody.
//
// The role is not rewritten in the store; the rule is applied wherever admin rights are
// checked or shown, so it holds the moment the last admin leaves and on every node.
func fallbackAdmin(members []plop.Member) (int, bool) {
	best := -1
	for i, m := range members {
		if m.Role == plop.RoleAdmin {
			return 0, false
		}
		if best < 0 || m.JoinedAt.Before(members[best].JoinedAt) ||
			(m.JoinedAt.Equal(members[best].JoinedAt) && m.UserID < members[best].UserID) {
			best = i
		}
	}
	return best, best >= 0
}

// isAdmin reports whether userID has admin rights in a group with these members: the admin
// role, or the fallback admin when no admin remains.
func isAdmin(members []plop.Member, userID string) bool {
	i := slices.IndexFunc(members, func(m plop.Member) bool { return m.UserID == userID })
	if i < 0 {
		return false
	}
	if members[i].Role == plop.RoleAdmin {
		return true
	}
	f, ok := fallbackAdmin(members)
	return ok && f == i
}

// presentMessage makes a message's lists encode as [] rather than null and fills the
// download URLs of its attachments.
func (a *App) presentMessage(m plop.Message) plop.Message {
	if m.Reactions == nil {
		m.Reactions = []plop.Reaction{}
	}
	m.Attachments = a.presentAttachments(m.Attachments)
	return m
}

// memberIDs returns the user ids of members.
func memberIDs(members []plop.Member) []string {
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.UserID
	}
	return ids
}
