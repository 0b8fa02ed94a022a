package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

// roomBody is the room.created / room.updated event body as a client reads it.
type roomBody struct {
	Type string    `json:"type"`
	Room plop.Room `json:"room"`
}

func TestDirectRoomIsOnePerPair(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann, bob := ta.user(t, "Ann"), ta.user(t, "Bob")
	ta.befriend(t, ann, bob)
	ta.events.reset()

	r, created, err := ta.CreateRoom(ctx, ann, RoomInput{Type: plop.RoomDirect, MemberIDs: []string{bob}})
	if err != nil || !created {
		t.Fatalf("CreateRoom = created %v, %v; want a new room", created, err)
	}
	if r.Type != plop.RoomDirect || r.Name != "" || len(r.Members) != 2 {
		t.Fatalf("room = %+v; want a direct room of two", r)
	}
	for _, m := range r.Members {
		if m.User == nil || m.User.Name == "" || m.User.Email != "" {
			t.Errorf("member %s user = %+v; want a public profile", m.UserID, m.User)
		}
	}
	e := ta.events.next(t, plop.EventRoomCreated)
	if e.RoomID != r.ID || !sameIDs(e.UserIDs, []string{ann, bob}) {
		t.Errorf("room.created to room %q users %v; want room %q users ann, bob", e.RoomID, e.UserIDs, r.ID)
	}
	if body := decodeBody[roomBody](t, e); body.Type != plop.EventRoomCreated || body.Room.ID != r.ID || len(body.Room.Members) != 2 {
		t.Errorf("room.created body = %s", e.Body)
	}

	// Either side asking again gets the same room, and nobody hears of a new one.
	again, created, err := ta.CreateRoom(ctx, bob, RoomInput{Type: plop.RoomDirect, MemberIDs: []string{ann}})
	if err != nil || created || again.ID != r.ID {
		t.Fatalf("second CreateRoom = %q created %v, %v; want %q not created", again.ID, created, err, r.ID)
	}
	ta.events.none(t, plop.EventRoomCreated)
	rooms, _, err := ta.Rooms(ctx, bob, Page{})
	if err != nil || len(rooms) != 1 {
		t.Fatalf("bob's rooms = %d, %v; want 1", len(rooms), err)
	}

	// After an unfriending the existing room stays reachable, but no new one can be opened.
	if err := ta.Unfriend(ctx, ann, bob); err != nil {
		t.Fatal(err)
	}
	if got, created, err := ta.CreateRoom(ctx, ann, RoomInput{Type: plop.RoomDirect, MemberIDs: []string{bob}}); err != nil || created || got.ID != r.ID {
		t.Errorf("CreateRoom after unfriending = %q created %v, %v; want the old room", got.ID, created, err)
	}
	cat := ta.user(t, "Cat")
	_, _, err = ta.CreateRoom(ctx, ann, RoomInput{Type: plop.RoomDirect, MemberIDs: []string{cat}})
	wantCode(t, err, plop.EForbidden)
}

func TestDirectRoomRefusals(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann, bob, cat := ta.user(t, "Ann"), ta.user(t, "Bob"), ta.user(t, "Cat")
	ta.befriend(t, ann, bob)
	ta.befriend(t, ann, cat)
	unverified := plop.User{ID: "unverified-user", Email: "u@example.com", Name: "U", CreatedAt: ta.clock.Now()}
	if err := ta.store.CreateUser(ctx, &unverified); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   RoomInput
		code string
	}{
		{"with yourself", RoomInput{Type: plop.RoomDirect, MemberIDs: []string{ann}}, plop.EInvalid},
		{"nobody", RoomInput{Type: plop.RoomDirect}, plop.EInvalid},
		{"two others", RoomInput{Type: plop.RoomDirect, MemberIDs: []string{bob, cat}}, plop.EInvalid},
		{"with a name", RoomInput{Type: plop.RoomDirect, Name: "us", MemberIDs: []string{bob}}, plop.EInvalid},
		{"unknown type", RoomInput{Type: "channel", MemberIDs: []string{bob}}, plop.EInvalid},
		{"bad id", RoomInput{Type: plop.RoomDirect, MemberIDs: []string{strings.Repeat("x", 65)}}, plop.EInvalid},
		{"unknown user", RoomInput{Type: plop.RoomDirect, MemberIDs: []string{"no-such-user"}}, plop.ENotFound},
		{"unverified user", RoomInput{Type: plop.RoomDirect, MemberIDs: []string{unverified.ID}}, plop.ENotFound},
		{"not a friend", RoomInput{Type: plop.RoomDirect, MemberIDs: []string{ta.user(t, "Dan")}}, plop.EForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ta.CreateRoom(ctx, ann, tc.in)
			wantCode(t, err, tc.code)
		})
	}

	// A block either way forbids the room, even one that exists already.
	r := ta.direct(t, ann, cat)
	if err := ta.Block(ctx, cat, ann); err != nil {
		t.Fatal(err)
	}
	_, _, err := ta.CreateRoom(ctx, ann, RoomInput{Type: plop.RoomDirect, MemberIDs: []string{cat}})
	wantCode(t, err, plop.EForbidden)
	if err := ta.Block(ctx, ann, bob); err != nil {
		t.Fatal(err)
	}
	_, _, err = ta.CreateRoom(ctx, ann, RoomInput{Type: plop.RoomDirect, MemberIDs: []string{bob}})
	wantCode(t, err, plop.EForbidden)
	// Blocking hides nothing already there: the room still lists.
	if _, err := ta.Room(ctx, ann, r.ID); err != nil {
		t.Errorf("Room after block: %v", err)
	}
}

func TestCreateGroup(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{MaxGroupMembers: 3})
	ann := ta.user(t, "Ann")
	bob, cat, dan := ta.friendOf(t, "Bob", ann), ta.friendOf(t, "Cat", ann), ta.friendOf(t, "Dan", ann)
	stranger := ta.user(t, "Eve")
	ta.events.reset()

	for _, tc := range []struct {
		name string
		in   RoomInput
		code string
	}{
		{"no name", RoomInput{Type: plop.RoomGroup, MemberIDs: []string{bob}}, plop.EInvalid},
		{"blank name", RoomInput{Type: plop.RoomGroup, Name: "   ", MemberIDs: []string{bob}}, plop.EInvalid},
		{"long name", RoomInput{Type: plop.RoomGroup, Name: strings.Repeat("é", 65), MemberIDs: []string{bob}}, plop.EInvalid},
		{"too many", RoomInput{Type: plop.RoomGroup, Name: "crowd", MemberIDs: []string{bob, cat, dan}}, plop.EInvalid},
		{"a stranger", RoomInput{Type: plop.RoomGroup, Name: "g", MemberIDs: []string{bob, stranger}}, plop.EForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ta.CreateRoom(ctx, ann, tc.in)
			wantCode(t, err, tc.code)
		})
	}
	ta.events.none(t, plop.EventRoomCreated)

	// The creator and repeats in member_ids count once; 64 characters of name fit.
	name := strings.Repeat("é", 64)
	r, created, err := ta.CreateRoom(ctx, ann, RoomInput{Type: plop.RoomGroup, Name: "  " + name + " ", MemberIDs: []string{bob, ann, cat, bob}})
	if err != nil || !created {
		t.Fatalf("CreateRoom = %v, %v", created, err)
	}
	if r.Type != plop.RoomGroup || r.Name != name || r.CreatedBy != ann || len(r.Members) != 3 {
		t.Fatalf("group = %+v", r)
	}
	for _, m := range r.Members {
		want := plop.RoleMember
		if m.UserID == ann {
			want = plop.RoleAdmin
		}
		if m.Role != want {
			t.Errorf("member %s role %q, want %q", m.UserID, m.Role, want)
		}
	}
	e := ta.events.next(t, plop.EventRoomCreated)
	if e.RoomID != r.ID || !sameIDs(e.UserIDs, []string{ann, bob, cat}) {
		t.Errorf("room.created to room %q users %v", e.RoomID, e.UserIDs)
	}
	if body := decodeBody[roomBody](t, e); body.Room.Name != name || len(body.Room.Members) != 3 {
		t.Errorf("room.created body = %s", e.Body)
	}
	// Two groups of the same people are two rooms.
	if r2 := ta.group(t, ann, "again", bob, cat); r2.ID == r.ID {
		t.Error("a second group got the first one's id")
	}
}

// TestNotMemberIsNotFound checks the one rule of access: a room the caller is not in does not
// exist for them, whatever they try.
func TestNotMemberIsNotFound(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann := ta.user(t, "Ann")
	bob := ta.friendOf(t, "Bob", ann)
	eve := ta.friendOf(t, "Eve", ann) // a friend of Ann, but not in the room
	r := ta.group(t, ann, "g", bob)
	ta.send(t, ann, r.ID, "hello")
	ta.events.reset()

	name, muted := "mine", true
	for _, roomID := range []string{r.ID, "no-such-room", ""} {
		calls := map[string]func() error{
			"Room":          func() error { _, err := ta.Room(ctx, eve, roomID); return err },
			"AuthorizeRoom": func() error { return ta.AuthorizeRoom(ctx, eve, roomID) },
			"Messages":      func() error { _, err := ta.Messages(ctx, eve, roomID, 0, 0, 0); return err },
			"SendMessage": func() error {
				_, _, err := ta.SendMessage(ctx, eve, roomID, MessageInput{Body: "hi"})
				return err
			},
			"UpdateRoom name": func() error { _, err := ta.UpdateRoom(ctx, eve, roomID, RoomUpdate{Name: &name}); return err },
			"UpdateRoom mute": func() error { _, err := ta.UpdateRoom(ctx, eve, roomID, RoomUpdate{Muted: &muted}); return err },
			"AddMembers":      func() error { _, err := ta.AddMembers(ctx, eve, roomID, []string{eve}); return err },
			"RemoveMember":    func() error { return ta.RemoveMember(ctx, eve, roomID, bob) },
			"Leave":           func() error { return ta.RemoveMember(ctx, eve, roomID, eve) },
			"EditMessage":     func() error { _, err := ta.EditMessage(ctx, eve, roomID, 1, "x"); return err },
			"DeleteMessage":   func() error { _, err := ta.DeleteMessage(ctx, eve, roomID, 1); return err },
			"React":           func() error { return ta.React(ctx, eve, roomID, 1, "👍", true) },
			"MarkRead":        func() error { return ta.MarkRead(ctx, eve, roomID, 1) },
			"Typing":          func() error { return ta.Typing(ctx, eve, "conn", roomID, false) },
		}
		for name, call := range calls {
			t.Run(name+"/"+roomID, func(t *testing.T) { wantCode(t, call(), plop.ENotFound) })
		}
	}
	if got := ta.events.ofType(plop.EventMessageCreated); len(got) != 0 {
		t.Errorf("an outsider's send was published: %s", got[0].Body)
	}
	if msgs, err := ta.Messages(ctx, ann, r.ID, 0, 0, 0); err != nil || len(msgs) != 1 {
		t.Errorf("history = %d messages, %v; want only Ann's", len(msgs), err)
	}
}

func TestAddMembers(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{MaxGroupMembers: 4})
	ann := ta.user(t, "Ann")
	bob := ta.friendOf(t, "Bob", ann)
	cat := ta.friendOf(t, "Cat", bob) // Bob's friend, not Ann's
	dan := ta.friendOf(t, "Dan", ann)
	eve := ta.friendOf(t, "Eve", ann)
	r := ta.group(t, ann, "g", bob)
	ta.send(t, ann, r.ID, "before Cat came")
	ta.events.reset()

	// Ann cannot add Bob's friend; Bob, a plain member, can.
	_, err := ta.AddMembers(ctx, ann, r.ID, []string{cat})
	wantCode(t, err, plop.EForbidden)
	got, err := ta.AddMembers(ctx, bob, r.ID, []string{cat, bob})
	if err != nil {
		t.Fatalf("Bob adds Cat: %v", err)
	}
	if len(got.Members) != 3 {
		t.Errorf("members after add = %d, want 3", len(got.Members))
	}
	e := ta.events.next(t, plop.EventMemberAdded)
	if e.RoomID != r.ID || !sameIDs(e.UserIDs, []string{ann, bob, cat}) {
		t.Errorf("member.added to room %q users %v; want everyone, Cat included", e.RoomID, e.UserIDs)
	}
	body := decodeBody[memberAddedEvent](t, e)
	if body.RoomID != r.ID || len(body.Members) != 1 || body.Members[0].UserID != cat ||
		body.Members[0].Role != plop.RoleMember || body.Members[0].User == nil || body.Members[0].User.Name != "Cat" {
		t.Errorf("member.added body = %s", e.Body)
	}
	// The newcomer reads the history and may write.
	if msgs, err := ta.Messages(ctx, cat, r.ID, 0, 0, 0); err != nil || len(msgs) != 1 {
		t.Errorf("Cat's history = %d, %v; want 1 message", len(msgs), err)
	}
	ta.send(t, cat, r.ID, "hi all")

	// Adding members again changes nothing and tells nobody.
	if _, err := ta.AddMembers(ctx, ann, r.ID, []string{bob}); err != nil {
		t.Errorf("adding a member again: %v", err)
	}
	ta.events.none(t, plop.EventMemberAdded)

	_, err = ta.AddMembers(ctx, ann, r.ID, nil)
	wantCode(t, err, plop.EInvalid)
	_, err = ta.AddMembers(ctx, ann, r.ID, []string{dan, eve}) // 5 > 4
	wantCode(t, err, plop.EInvalid)
	if _, err := ta.AddMembers(ctx, ann, r.ID, []string{dan}); err != nil {
		t.Errorf("adding the fourth member: %v", err)
	}

	d := ta.direct(t, ann, dan)
	_, err = ta.AddMembers(ctx, ann, d.ID, []string{eve})
	wantCode(t, err, plop.EInvalid)
}

func TestRemoveMemberAndLeave(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann := ta.user(t, "Ann")
	bob, cat, dan := ta.friendOf(t, "Bob", ann), ta.friendOf(t, "Cat", ann), ta.friendOf(t, "Dan", ann)
	r := ta.group(t, ann, "g", bob, cat)
	ta.clock.Advance(time.Second)
	if _, err := ta.AddMembers(ctx, ann, r.ID, []string{dan}); err != nil {
		t.Fatal(err)
	}
	ta.events.reset()

	// Only an admin removes others.
	wantCode(t, ta.RemoveMember(ctx, bob, r.ID, cat), plop.EForbidden)
	wantCode(t, ta.RemoveMember(ctx, ann, r.ID, "not-a-member"), plop.ENotFound)
	if err := ta.RemoveMember(ctx, ann, r.ID, cat); err != nil {
		t.Fatalf("admin removes Cat: %v", err)
	}
	e := ta.events.next(t, plop.EventMemberRemoved)
	if e.RoomID != r.ID || !sameIDs(e.UserIDs, []string{ann, bob, cat, dan}) {
		t.Errorf("member.removed to room %q users %v; want the members and Cat", e.RoomID, e.UserIDs)
	}
	if body := decodeBody[memberRemovedEvent](t, e); body.Type != plop.EventMemberRemoved || body.RoomID != r.ID || body.UserID != cat {
		t.Errorf("member.removed body = %s", e.Body)
	}
	_, err := ta.Room(ctx, cat, r.ID)
	wantCode(t, err, plop.ENotFound)
	_, _, err = ta.SendMessage(ctx, cat, r.ID, MessageInput{Body: "still here?"})
	wantCode(t, err, plop.ENotFound)

	// The last admin leaves: Bob, the longest-standing member, takes over (Dan joined later).
	if err := ta.RemoveMember(ctx, ann, r.ID, ann); err != nil {
		t.Fatalf("Ann leaves: %v", err)
	}
	if e := ta.events.next(t, plop.EventMemberRemoved); !sameIDs(e.UserIDs, []string{ann, bob, dan}) {
		t.Errorf("leaving told %v", e.UserIDs)
	}
	got, err := ta.Room(ctx, dan, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got.Members {
		if want := map[string]string{bob: plop.RoleAdmin, dan: plop.RoleMember}[m.UserID]; m.Role != want {
			t.Errorf("after Ann left, %s has role %q, want %q", m.UserID, m.Role, want)
		}
	}
	newName := "Bob's now"
	_, err = ta.UpdateRoom(ctx, dan, r.ID, RoomUpdate{Name: &newName})
	wantCode(t, err, plop.EForbidden)
	if _, err := ta.UpdateRoom(ctx, bob, r.ID, RoomUpdate{Name: &newName}); err != nil {
		t.Errorf("the new admin renames: %v", err)
	}
	wantCode(t, ta.RemoveMember(ctx, dan, r.ID, bob), plop.EForbidden)
	if err := ta.RemoveMember(ctx, bob, r.ID, dan); err != nil {
		t.Errorf("the new admin removes Dan: %v", err)
	}

	// A plain member leaves without anyone's leave.
	g2 := ta.group(t, ann, "g2", bob, dan)
	if err := ta.RemoveMember(ctx, dan, g2.ID, dan); err != nil {
		t.Fatalf("Dan leaves: %v", err)
	}
	if _, err := ta.Room(ctx, dan, g2.ID); plop.ErrorCode(err) != plop.ENotFound {
		t.Errorf("Dan still sees the group he left: %v", err)
	}
	if got, _ := ta.Room(ctx, ann, g2.ID); len(got.Members) != 2 {
		t.Errorf("g2 has %d members after Dan left, want 2", len(got.Members))
	}

	// Nobody leaves a direct room.
	d := ta.direct(t, ann, bob)
	wantCode(t, ta.RemoveMember(ctx, ann, d.ID, ann), plop.EInvalid)
	wantCode(t, ta.RemoveMember(ctx, ann, d.ID, bob), plop.EInvalid)
}

func TestRenameAndMute(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann := ta.user(t, "Ann")
	bob := ta.friendOf(t, "Bob", ann)
	r := ta.group(t, ann, "old", bob)
	ta.events.reset()

	name := "  new name "
	_, err := ta.UpdateRoom(ctx, bob, r.ID, RoomUpdate{Name: &name})
	wantCode(t, err, plop.EForbidden)
	got, err := ta.UpdateRoom(ctx, ann, r.ID, RoomUpdate{Name: &name})
	if err != nil || got.Name != "new name" {
		t.Fatalf("rename = %q, %v", got.Name, err)
	}
	e := ta.events.next(t, plop.EventRoomUpdated)
	if body := decodeBody[roomBody](t, e); e.RoomID != r.ID || !sameIDs(e.UserIDs, []string{ann, bob}) || body.Room.Name != "new name" {
		t.Errorf("room.updated to %q %v body %s", e.RoomID, e.UserIDs, e.Body)
	}
	if seen, _ := ta.Room(ctx, bob, r.ID); seen.Name != "new name" {
		t.Errorf("Bob sees name %q", seen.Name)
	}
	empty := ""
	_, err = ta.UpdateRoom(ctx, ann, r.ID, RoomUpdate{Name: &empty})
	wantCode(t, err, plop.EInvalid)

	// Muting is personal: any member, no event, others unaffected.
	muted := true
	got, err = ta.UpdateRoom(ctx, bob, r.ID, RoomUpdate{Muted: &muted})
	if err != nil || !got.Muted {
		t.Fatalf("Bob mutes: muted %v, %v", got.Muted, err)
	}
	ta.events.none(t, plop.EventRoomUpdated)
	if seen, _ := ta.Room(ctx, ann, r.ID); seen.Muted {
		t.Error("Bob's mute shows for Ann")
	}

	d := ta.direct(t, ann, bob)
	_, err = ta.UpdateRoom(ctx, ann, d.ID, RoomUpdate{Name: &name})
	wantCode(t, err, plop.EInvalid)
	if got, err := ta.UpdateRoom(ctx, ann, d.ID, RoomUpdate{Muted: &muted}); err != nil || !got.Muted {
		t.Errorf("muting a direct room: %v, %v", got.Muted, err)
	}
}

func TestRoomsListLatestFirstWithUnread(t *testing.T) {
	ctx := context.Background()
	ta := newTestApp(t, Config{})
	ann := ta.user(t, "Ann")
	bob, cat := ta.friendOf(t, "Bob", ann), ta.friendOf(t, "Cat", ann)
	withBob := ta.direct(t, ann, bob)
	ta.clock.Advance(time.Second)
	withCat := ta.direct(t, ann, cat)
	ta.clock.Advance(time.Second)
	grp := ta.group(t, ann, "all", bob, cat)
	ta.clock.Advance(time.Second)

	ta.send(t, bob, withBob.ID, "one")
	ta.send(t, bob, withBob.ID, "two")
	ta.clock.Advance(time.Second)
	ta.send(t, ann, grp.ID, "mine")

	rooms, next, err := ta.Rooms(ctx, ann, Page{})
	if err != nil || next != "" {
		t.Fatalf("Rooms: next %q, %v", next, err)
	}
	var order []string
	unread := map[string]int64{}
	for _, r := range rooms {
		order = append(order, r.ID)
		unread[r.ID] = r.UnreadCount
	}
	if want := []string{grp.ID, withBob.ID, withCat.ID}; strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("room order = %v, want group, Bob, Cat", order)
	}
	if unread[withBob.ID] != 2 || unread[grp.ID] != 0 || unread[withCat.ID] != 0 {
		t.Errorf("Ann's unread = %v; want 2 with Bob, 0 elsewhere (her own message is read)", unread)
	}
	if rooms[0].LastMessage == nil || rooms[0].LastMessage.Body != "mine" {
		t.Errorf("group's last message = %+v", rooms[0].LastMessage)
	}

	// Paging walks the same order.
	var paged []string
	p := Page{Limit: 1}
	for i := 0; i < 5; i++ {
		rs, next, err := ta.Rooms(ctx, ann, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			paged = append(paged, r.ID)
		}
		if next == "" {
			break
		}
		p.Cursor = next
	}
	if strings.Join(paged, ",") != strings.Join(order, ",") {
		t.Errorf("paged order = %v, want %v", paged, order)
	}
}

func TestDirectRoomIDs(t *testing.T) {
	if directRoomID("a", "b") != directRoomID("b", "a") {
		t.Error("the direct room id depends on the order of the pair")
	}
	if directRoomID("a", "b") == directRoomID("a", "c") {
		t.Error("two pairs share a direct room id")
	}
	id := directRoomID("u1", "u2")
	if !isDirectRoom(id, "u2", "u1") || isDirectRoom(id, "u1", "u3") || isDirectRoom("0190a0c4-0000-7000-8000-000000000000", "u1", "u2") {
		t.Error("isDirectRoom misjudges")
	}
}
