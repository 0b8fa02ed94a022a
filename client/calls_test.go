package client_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
)

var (
	t0   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	t1   = t0.Add(time.Minute)
	ana  = plop.User{ID: "u-ana", Email: "ana@example.com", Name: "Ana", Verified: true, CreatedAt: t0}
	bob  = plop.User{ID: "u-bob", Name: "Bob", StatusMessage: "hi", AvatarURL: "/api/v1/avatars/u-bob.png", Verified: true, CreatedAt: t0}
	anaJ = `{"id":"u-ana","email":"ana@example.com","name":"Ana","status_message":"","verified":true,"created_at":"2026-03-01T12:00:00Z"}`
	bobJ = `{"id":"u-bob","name":"Bob","status_message":"hi","avatar_url":"/api/v1/avatars/u-bob.png","verified":true,"created_at":"2026-03-01T12:00:00Z"}`

	tokens  = client.Tokens{AccessToken: "acc", RefreshToken: "ref", TokenType: "Bearer", ExpiresIn: 900, User: ana}
	tokensJ = `{"access_token":"acc","refresh_token":"ref","token_type":"Bearer","expires_in":900,"user":` + anaJ + `}`

	room = plop.Room{ID: "r-1", Type: plop.RoomGroup, Name: "Trip", CreatedBy: "u-ana", CreatedAt: t0, UpdatedAt: t1,
		LastSeq: 2, UnreadCount: 1, Muted: true,
		Members: []plop.Member{{UserID: "u-ana", Role: plop.RoleAdmin, JoinedAt: t0, LastReadSeq: 1, User: &ana}}}
	roomJ = `{"id":"r-1","type":"group","name":"Trip","created_by":"u-ana","created_at":"2026-03-01T12:00:00Z",
		"updated_at":"2026-03-01T12:01:00Z","last_seq":2,"unread_count":1,"muted":true,"last_message":null,
		"members":[{"user_id":"u-ana","role":"admin","joined_at":"2026-03-01T12:00:00Z","last_read_seq":1,"user":` + anaJ + `}]}`

	reply = int64(1)
	msg   = plop.Message{ID: "m-2", RoomID: "r-1", Seq: 2, SenderID: "u-ana", Body: "hello", ClientMsgID: "c-2",
		ReplyTo: &reply, CreatedAt: t1, EditedAt: &t1,
		Reactions: []plop.Reaction{{Emoji: "👍", Count: 1, UserIDs: []string{"u-bob"}}}, Attachments: []plop.Attachment{}}
	msgJ = `{"id":"m-2","room_id":"r-1","seq":2,"sender_id":"u-ana","body":"hello","client_msg_id":"c-2","reply_to":1,
		"reactions":[{"emoji":"👍","count":1,"user_ids":["u-bob"]}],"attachments":[],
		"created_at":"2026-03-01T12:01:00Z","edited_at":"2026-03-01T12:01:00Z","deleted":false}`

	request  = plop.FriendRequest{ID: "fr-1", FromID: "u-ana", ToID: "u-bob", To: &bob, CreatedAt: t0}
	requestJ = `{"id":"fr-1","from_id":"u-ana","to_id":"u-bob","to":` + bobJ + `,"created_at":"2026-03-01T12:00:00Z"}`

	friend  = plop.Friend{User: bob, Since: t1, Presence: plop.Presence{UserID: "u-bob", Online: false, LastSeen: &t1}}
	friendJ = `{"user":` + bobJ + `,"since":"2026-03-01T12:01:00Z","presence":{"user_id":"u-bob","online":false,"last_seen":"2026-03-01T12:01:00Z"}}`

	device  = plop.Device{ID: "d-1", Platform: plop.PlatformWebPush, CreatedAt: t0}
	deviceJ = `{"id":"d-1","platform":"webpush","created_at":"2026-03-01T12:00:00Z"}`
)

func strp(s string) *string { return &s }
func boolp(b bool) *bool    { return &b }

// TestCalls checks, for every REST call, the request the client sends (method, escaped path,
// query, JSON body, bearer token) and what it makes of the documented answer.
func TestCalls(t *testing.T) {
	type result = any
	tests := []struct {
		name string
		req  canned
		call func(context.Context, *client.Client) (result, error)
		want result
	}{
		{"Signup", canned{method: "POST", path: "/api/v1/auth/signup", body: `{"email":"ana@example.com","password":"pw-123456","name":"Ana"}`, status: 201, answer: `{"user":` + anaJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) {
				return c.Signup(ctx, "ana@example.com", "pw-123456", "Ana")
			}, ana},
		{"Verify", canned{method: "POST", path: "/api/v1/auth/verify", body: `{"email":"ana@example.com","code":"123456"}`, answer: tokensJ},
			func(ctx context.Context, c *client.Client) (result, error) {
				return c.Verify(ctx, "ana@example.com", "123456")
			}, tokens},
		{"ResendCode", canned{method: "POST", path: "/api/v1/auth/verify/resend", body: `{"email":"ana@example.com"}`, status: 202},
			func(ctx context.Context, c *client.Client) (result, error) {
				return nil, c.ResendCode(ctx, "ana@example.com")
			}, nil},
		{"Login", canned{method: "POST", path: "/api/v1/auth/login", body: `{"email":"ana@example.com","password":"pw"}`, answer: tokensJ},
			func(ctx context.Context, c *client.Client) (result, error) {
				return c.Login(ctx, "ana@example.com", "pw")
			}, tokens},
		{"Refresh", canned{method: "POST", path: "/api/v1/auth/refresh", body: `{"refresh_token":"ref"}`, answer: tokensJ},
			func(ctx context.Context, c *client.Client) (result, error) { return c.Refresh(ctx, "ref") }, tokens},
		{"Logout", canned{method: "POST", path: "/api/v1/auth/logout", body: `{"refresh_token":"ref"}`, status: 204},
			func(ctx context.Context, c *client.Client) (result, error) { return nil, c.Logout(ctx, "ref") }, nil},

		{"Me", canned{method: "GET", path: "/api/v1/me", answer: `{"user":` + anaJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.Me(ctx) }, ana},
		{"UpdateMe sends only the set fields", canned{method: "PATCH", path: "/api/v1/me", body: `{"status_message":""}`, answer: `{"user":` + anaJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) {
				return c.UpdateMe(ctx, client.ProfileUpdate{StatusMessage: strp("")})
			}, ana},
		{"User escapes the id", canned{method: "GET", path: "/api/v1/users/a%2Fb", answer: `{"user":` + bobJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.User(ctx, "a/b") }, bob},
		{"SearchUsers", canned{method: "GET", path: "/api/v1/users", query: "q=bob%26co", answer: `{"users":[` + bobJ + `]}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.SearchUsers(ctx, "bob&co") }, []plop.User{bob}},
		{"Friends", canned{method: "GET", path: "/api/v1/friends", answer: `{"friends":[` + friendJ + `]}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.Friends(ctx) }, []plop.Friend{friend}},
		{"SendFriendRequest", canned{method: "POST", path: "/api/v1/friends/requests", body: `{"user_id":"u-bob"}`, status: 201, answer: `{"request":` + requestJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.SendFriendRequest(ctx, "u-bob") }, request},
		{"SendFriendRequestByEmail", canned{method: "POST", path: "/api/v1/friends/requests", body: `{"email":"bob@example.com"}`, status: 201, answer: `{"request":` + requestJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) {
				return c.SendFriendRequestByEmail(ctx, "bob@example.com")
			}, request},
		{"FriendRequestsPage", canned{method: "GET", path: "/api/v1/friends/requests", query: "cursor=c1&direction=outgoing&limit=10", answer: `{"requests":[` + requestJ + `],"next_cursor":"c2"}`},
			func(ctx context.Context, c *client.Client) (result, error) {
				reqs, next, err := c.FriendRequestsPage(ctx, plop.Outgoing, "c1", 10)
				return []any{reqs, next}, err
			}, []any{[]plop.FriendRequest{request}, "c2"}},
		{"AcceptFriendRequest", canned{method: "POST", path: "/api/v1/friends/requests/fr-1/accept", answer: `{"friend":` + friendJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.AcceptFriendRequest(ctx, "fr-1") }, friend},
		{"DeclineFriendRequest", canned{method: "POST", path: "/api/v1/friends/requests/fr-1/decline", status: 204},
			func(ctx context.Context, c *client.Client) (result, error) {
				return nil, c.DeclineFriendRequest(ctx, "fr-1")
			}, nil},
		{"Unfriend", canned{method: "DELETE", path: "/api/v1/friends/u-bob", status: 204},
			func(ctx context.Context, c *client.Client) (result, error) { return nil, c.Unfriend(ctx, "u-bob") }, nil},
		{"Block", canned{method: "PUT", path: "/api/v1/blocks/u-bob", status: 204},
			func(ctx context.Context, c *client.Client) (result, error) { return nil, c.Block(ctx, "u-bob") }, nil},
		{"Unblock", canned{method: "DELETE", path: "/api/v1/blocks/u-bob", status: 204},
			func(ctx context.Context, c *client.Client) (result, error) { return nil, c.Unblock(ctx, "u-bob") }, nil},
		{"Presence", canned{method: "GET", path: "/api/v1/presence", query: "user_ids=u-bob%2Cu-cy",
			answer: `{"presence":[{"user_id":"u-bob","online":true,"last_seen":null},{"user_id":"u-cy","online":false,"last_seen":"2026-03-01T12:01:00Z"}]}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.Presence(ctx, "u-bob", "u-cy") },
			[]plop.Presence{{UserID: "u-bob", Online: true}, {UserID: "u-cy", LastSeen: &t1}}},
		{"RegisterDevice", canned{method: "POST", path: "/api/v1/devices",
			body:   `{"platform":"webpush","subscription":{"endpoint":"https://push.example/1","keys":{"p256dh":"k","auth":"a"}}}`,
			status: 201, answer: `{"device":` + deviceJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) {
				return c.RegisterDevice(ctx, client.DeviceRegistration{Platform: plop.PlatformWebPush,
					Subscription: json.RawMessage(`{"endpoint":"https://push.example/1","keys":{"p256dh":"k","auth":"a"}}`)})
			}, device},
		{"Devices", canned{method: "GET", path: "/api/v1/devices", answer: `{"devices":[` + deviceJ + `]}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.Devices(ctx) }, []plop.Device{device}},
		{"DeleteDevice", canned{method: "DELETE", path: "/api/v1/devices/d-1", status: 204},
			func(ctx context.Context, c *client.Client) (result, error) { return nil, c.DeleteDevice(ctx, "d-1") }, nil},

		{"CreateDirectRoom", canned{method: "POST", path: "/api/v1/rooms", body: `{"type":"direct","member_ids":["u-bob"]}`, answer: `{"room":` + roomJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.CreateDirectRoom(ctx, "u-bob") }, room},
		{"CreateGroupRoom", canned{method: "POST", path: "/api/v1/rooms", body: `{"type":"group","name":"Trip","member_ids":["u-bob","u-cy"]}`, status: 201, answer: `{"room":` + roomJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) {
				return c.CreateGroupRoom(ctx, "Trip", "u-bob", "u-cy")
			}, room},
		{"CreateGroupRoom alone sends an empty list", canned{method: "POST", path: "/api/v1/rooms", body: `{"type":"group","name":"Notes","member_ids":[]}`, status: 201, answer: `{"room":` + roomJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.CreateGroupRoom(ctx, "Notes") }, room},
		{"Room", canned{method: "GET", path: "/api/v1/rooms/r-1", answer: `{"room":` + roomJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.Room(ctx, "r-1") }, room},
		{"UpdateRoom", canned{method: "PATCH", path: "/api/v1/rooms/r-1", body: `{"name":"Trip","muted":false}`, answer: `{"room":` + roomJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) {
				return c.UpdateRoom(ctx, "r-1", client.RoomUpdate{Name: strp("Trip"), Muted: boolp(false)})
			}, room},
		{"AddMembers", canned{method: "POST", path: "/api/v1/rooms/r-1/members", body: `{"user_ids":["u-bob"]}`, answer: `{"room":` + roomJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.AddMembers(ctx, "r-1", "u-bob") }, room},
		{"RemoveMember", canned{method: "DELETE", path: "/api/v1/rooms/r-1/members/u-bob", status: 204},
			func(ctx context.Context, c *client.Client) (result, error) {
				return nil, c.RemoveMember(ctx, "r-1", "u-bob")
			}, nil},
		{"Messages after", canned{method: "GET", path: "/api/v1/rooms/r-1/messages", query: "after=1&limit=20", answer: `{"messages":[` + msgJ + `]}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.Messages(ctx, "r-1", 0, 1, 20) }, []plop.Message{msg}},
		{"Messages before", canned{method: "GET", path: "/api/v1/rooms/r-1/messages", query: "before=3", answer: `{"messages":[]}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.Messages(ctx, "r-1", 3, 0, 0) }, []plop.Message{}},
		{"SendMessage", canned{method: "POST", path: "/api/v1/rooms/r-1/messages", body: `{"body":"hello","client_msg_id":"c-2","reply_to":1}`, status: 201, answer: `{"message":` + msgJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) {
				return c.SendMessage(ctx, "r-1", client.NewMessage{Body: "hello", ClientMsgID: "c-2", ReplyTo: &reply})
			}, msg},
		{"EditMessage", canned{method: "PATCH", path: "/api/v1/rooms/r-1/messages/2", body: `{"body":"hello"}`, answer: `{"message":` + msgJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) {
				return c.EditMessage(ctx, "r-1", 2, "hello")
			}, msg},
		{"DeleteMessage", canned{method: "DELETE", path: "/api/v1/rooms/r-1/messages/2", answer: `{"message":` + msgJ + `}`},
			func(ctx context.Context, c *client.Client) (result, error) { return c.DeleteMessage(ctx, "r-1", 2) }, msg},
		{"DeleteMessage without a body", canned{method: "DELETE", path: "/api/v1/rooms/r-1/messages/2", status: 204},
			func(ctx context.Context, c *client.Client) (result, error) { return c.DeleteMessage(ctx, "r-1", 2) }, plop.Message{}},
		{"React escapes the emoji", canned{method: "PUT", path: "/api/v1/rooms/r-1/messages/2/reactions/%F0%9F%91%8D", status: 204},
			func(ctx context.Context, c *client.Client) (result, error) {
				return nil, c.React(ctx, "r-1", 2, "👍")
			}, nil},
		{"Unreact", canned{method: "DELETE", path: "/api/v1/rooms/r-1/messages/2/reactions/%F0%9F%91%8D", status: 204},
			func(ctx context.Context, c *client.Client) (result, error) {
				return nil, c.Unreact(ctx, "r-1", 2, "👍")
			}, nil},
		{"MarkRead", canned{method: "POST", path: "/api/v1/rooms/r-1/read", body: `{"seq":2}`, status: 204},
			func(ctx context.Context, c *client.Client) (result, error) { return nil, c.MarkRead(ctx, "r-1", 2) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFake(t, tt.req)
			got, err := tt.call(t.Context(), c.WithToken("tok"))
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("%s answer (-want +got):\n%s", tt.name, diff)
			}
			if auth := f.authHeaders(); len(auth) != 1 || auth[0] != "Bearer tok" {
				t.Fatalf("Authorization headers %q, want one %q", auth, "Bearer tok")
			}
		})
	}
}
