package bench

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/client"
)

// restSeed seeds through the public REST API with the Go client.
type restSeed struct {
	base *client.Client
	tr   *http.Transport
}

func newRESTSeed(url string, conc int) restSeed {
	tr := &http.Transport{
		MaxIdleConns:        2 * conc,
		MaxIdleConnsPerHost: 2 * conc,
		IdleConnTimeout:     30 * time.Second,
	}
	return restSeed{base: client.New(url, client.WithHTTPClient(&http.Client{Transport: tr}), client.WithUserAgent("plop-bench")), tr: tr}
}

func (r restSeed) close() { r.tr.CloseIdleConnections() }

// as returns a client that acts as u, from u's client address.
func (r restSeed) as(u *user) *client.Client {
	c := client.New(r.base.BaseURL,
		client.WithHTTPClient(&http.Client{Transport: xffTransport{base: r.tr, addr: u.addr}}),
		client.WithUserAgent("plop-bench"))
	if u.Token != "" {
		c = c.WithToken(u.Token)
	}
	return c
}

func (r restSeed) signup(ctx context.Context, u *user, name string) error {
	err := withRetry(ctx, func() error {
		pu, err := r.as(u).Signup(ctx, u.Email, benchPassword, name)
		u.ID = pu.ID
		return err
	})
	if plop.ErrorCode(err) == plop.ERateLimited {
		return fmt.Errorf("%w: start the node with PLOP_TRUST_PROXY=true, so that each seeded user "+
			"signs up from an address of its own (X-Forwarded-For)", err)
	}
	return err
}

func (r restSeed) verify(ctx context.Context, u *user, code string) error {
	tok, err := r.as(u).Verify(ctx, u.Email, code)
	if err != nil {
		return err
	}
	u.ID, u.Token = tok.User.ID, tok.AccessToken
	return nil
}

func (r restSeed) befriend(ctx context.Context, a, b *user) error {
	var reqID string
	err := withRetry(ctx, func() error {
		req, err := r.as(a).SendFriendRequest(ctx, b.ID)
		reqID = req.ID
		return err
	})
	if err != nil {
		return err
	}
	return withRetry(ctx, func() error {
		_, err := r.as(b).AcceptFriendRequest(ctx, reqID)
		return err
	})
}

func (r restSeed) createGroup(ctx context.Context, creator *user, name string, members []string) (string, error) {
	room, err := r.as(creator).CreateGroupRoom(ctx, name, members...)
	return room.ID, err
}

func (r restSeed) createDirect(ctx context.Context, a *user, b string) (string, error) {
	room, err := r.as(a).CreateDirectRoom(ctx, b)
	return room.ID, err
}

// appSeed seeds an in-process node through its services, skipping HTTP, JSON and token
// checks: the fast path for large seeds.
type appSeed struct{ a *app.App }

func (s appSeed) close() {}

func (s appSeed) signup(ctx context.Context, u *user, name string) error {
	pu, err := s.a.Signup(ctx, app.SignupInput{Email: u.Email, Password: benchPassword, Name: name}, u.addr)
	u.ID = pu.ID
	return err
}

func (s appSeed) verify(ctx context.Context, u *user, code string) error {
	tok, err := s.a.Verify(ctx, u.Email, code, u.addr)
	if err != nil {
		return err
	}
	u.ID, u.Token = tok.User.ID, tok.AccessToken
	return nil
}

func (s appSeed) befriend(ctx context.Context, a, b *user) error {
	var reqID string
	err := withRetry(ctx, func() error {
		req, err := s.a.SendFriendRequest(ctx, a.ID, app.FriendRequestInput{UserID: b.ID})
		reqID = req.ID
		return err
	})
	if err != nil {
		return err
	}
	return withRetry(ctx, func() error {
		_, err := s.a.AcceptFriendRequest(ctx, b.ID, reqID)
		return err
	})
}

func (s appSeed) createGroup(ctx context.Context, creator *user, name string, members []string) (string, error) {
	room, _, err := s.a.CreateRoom(ctx, creator.ID, app.RoomInput{Type: "group", Name: name, MemberIDs: members})
	return room.ID, err
}

func (s appSeed) createDirect(ctx context.Context, a *user, b string) (string, error) {
	room, _, err := s.a.CreateRoom(ctx, a.ID, app.RoomInput{Type: "direct", MemberIDs: []string{b}})
	return room.ID, err
}
