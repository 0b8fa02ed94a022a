package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/plop-chat/plop"
)

type userBody struct {
	User plop.User `json:"user"`
}

// ProfileUpdate changes the caller's profile; nil fields stay as they are.
type ProfileUpdate struct {
	Name          *string `json:"name,omitempty"`
	StatusMessage *string `json:"status_message,omitempty"`
}

// Me returns the caller's own account, with its e-mail address.
func (c *Client) Me(ctx context.Context) (plop.User, error) {
	var out userBody
	err := c.do(ctx, call{method: http.MethodGet, path: "/me", out: &out})
	return out.User, err
}

// UpdateMe changes the caller's name or status message.
func (c *Client) UpdateMe(ctx context.Context, upd ProfileUpdate) (plop.User, error) {
	var out userBody
	err := c.do(ctx, call{method: http.MethodPatch, path: "/me", in: upd, out: &out})
	return out.User, err
}

// SetAvatar uploads the caller's profile image, r holding an image of contentType (such as
// "image/png"); the answer carries its avatar_url.
func (c *Client) SetAvatar(ctx context.Context, contentType string, r io.Reader) (plop.User, error) {
	var out userBody
	err := c.do(ctx, call{method: http.MethodPut, path: "/me/avatar",
		body: r, contentType: contentType, out: &out})
	return out.User, err
}

// User returns another user's public profile.
func (c *Client) User(ctx context.Context, id string) (plop.User, error) {
	var out userBody
	err := c.do(ctx, call{method: http.MethodGet, path: "/users/" + seg(id), out: &out})
	return out.User, err
}

// SearchUsers finds users by exact e-mail or by name prefix.
func (c *Client) SearchUsers(ctx context.Context, q string) ([]plop.User, error) {
	var out struct {
		Users []plop.User `json:"users"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "/users", query: url.Values{"q": {q}}, out: &out})
	return out.Users, err
}

// Friends lists the caller's friends with their presence.
func (c *Client) Friends(ctx context.Context) ([]plop.Friend, error) {
	var out struct {
		Friends []plop.Friend `json:"friends"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "/friends", out: &out})
	return out.Friends, err
}

type requestBody struct {
	Request plop.FriendRequest `json:"request"`
}

// SendFriendRequest asks the user with id userID to be friends.
func (c *Client) SendFriendRequest(ctx context.Context, userID string) (plop.FriendRequest, error) {
	var out requestBody
	err := c.do(ctx, call{method: http.MethodPost, path: "/friends/requests",
		in: map[string]string{"user_id": userID}, out: &out})
	return out.Request, err
}

// SendFriendRequestByEmail asks the user with that e-mail address to be friends.
func (c *Client) SendFriendRequestByEmail(ctx context.Context, email string) (plop.FriendRequest, error) {
	var out requestBody
	err := c.do(ctx, call{method: http.MethodPost, path: "/friends/requests",
		in: map[string]string{"email": email}, out: &out})
	return out.Request, err
}

// FriendRequests lists every pending request of the caller in direction (plop.Incoming or
// plop.Outgoing), newest first, following the pages to the end.
func (c *Client) FriendRequests(ctx context.Context, direction string) ([]plop.FriendRequest, error) {
	var all []plop.FriendRequest
	cursor := ""
	for {
		page, next, err := c.FriendRequestsPage(ctx, direction, cursor, 0)
		if err != nil {
			return all, err
		}
		all = append(all, page...)
		if next == "" || next == cursor {
			return all, nil
		}
		cursor = next
	}
}

// FriendRequestsPage returns one page of requests starting at cursor ("" for the first) and
// the cursor of the next page, "" on the last one. limit 0 means the server's default.
func (c *Client) FriendRequestsPage(ctx context.Context, direction, cursor string, limit int) ([]plop.FriendRequest, string, error) {
	var out struct {
		Requests   []plop.FriendRequest `json:"requests"`
		NextCursor string               `json:"next_cursor"`
	}
	q := pageQuery(cursor, limit)
	q.Set("direction", direction)
	err := c.do(ctx, call{method: http.MethodGet, path: "/friends/requests", query: q, out: &out})
	return out.Requests, out.NextCursor, err
}

// AcceptFriendRequest accepts an incoming request and returns the new friend (zero when the
// server answers without a body).
func (c *Client) AcceptFriendRequest(ctx context.Context, id string) (plop.Friend, error) {
	var out struct {
		Friend plop.Friend `json:"friend"`
	}
	err := c.do(ctx, call{method: http.MethodPost, path: "/friends/requests/" + seg(id) + "/accept", out: &out})
	return out.Friend, err
}

// DeclineFriendRequest declines an incoming request or withdraws an outgoing one.
func (c *Client) DeclineFriendRequest(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/friends/requests/" + seg(id) + "/decline"})
}

// Unfriend ends the friendship with userID.
func (c *Client) Unfriend(ctx context.Context, userID string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/friends/" + seg(userID)})
}

// Block stops userID from messaging or befriending the caller.
func (c *Client) Block(ctx context.Context, userID string) error {
	return c.do(ctx, call{method: http.MethodPut, path: "/blocks/" + seg(userID)})
}

// Unblock lifts a block.
func (c *Client) Unblock(ctx context.Context, userID string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/blocks/" + seg(userID)})
}

// Presence returns whether each of the caller's friends in userIDs is online, or when they
// last were.
func (c *Client) Presence(ctx context.Context, userIDs ...string) ([]plop.Presence, error) {
	var out struct {
		Presence []plop.Presence `json:"presence"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "/presence",
		query: url.Values{"user_ids": {strings.Join(userIDs, ",")}}, out: &out})
	return out.Presence, err
}

// DeviceRegistration is a push target: an FCM registration token, or a Web Push
// subscription (the browser's PushSubscription as JSON).
type DeviceRegistration struct {
	Platform     string          `json:"platform"` // plop.PlatformFCM or plop.PlatformWebPush
	Token        string          `json:"token,omitempty"`
	Subscription json.RawMessage `json:"subscription,omitempty"`
}

// RegisterDevice registers a push target of the caller; registering the same one again
// returns the existing device.
func (c *Client) RegisterDevice(ctx context.Context, d DeviceRegistration) (plop.Device, error) {
	var out struct {
		Device plop.Device `json:"device"`
	}
	err := c.do(ctx, call{method: http.MethodPost, path: "/devices", in: d, out: &out})
	return out.Device, err
}

// Devices lists the caller's push targets.
func (c *Client) Devices(ctx context.Context) ([]plop.Device, error) {
	var out struct {
		Devices []plop.Device `json:"devices"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: "/devices", out: &out})
	return out.Devices, err
}

// DeleteDevice unregisters a push target.
func (c *Client) DeleteDevice(ctx context.Context, id string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/devices/" + seg(id)})
}
