package scaleout

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plop-chat/plop/client"
)

// user is a verified account of the cluster with a REST client through nginx.
type user struct {
	Name, Email, Password string
	ID                    string
	API                   *client.Client // through nginx, with the access token
	Tokens                client.Tokens
}

var userSeq atomic.Int64

// signup creates and verifies an account through nginx. The code e-mail may have been
// written by any node, so every node's outbox is searched.
func (c *cluster) signup(tb testing.TB, name string) *user {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u := &user{
		Name:     name,
		Email:    fmt.Sprintf("%s.%d.%d@example.com", strings.ToLower(name), os.Getpid(), userSeq.Add(1)),
		Password: "correct horse battery staple",
	}
	anon := client.New(c.URL(), client.WithHTTPClient(c.http))
	me, err := anon.Signup(ctx, u.Email, u.Password, name)
	if err != nil {
		tb.Fatalf("sign up %s: %v", name, err)
	}
	u.ID = me.ID
	var code string
	waitFor(tb, 10*time.Second, "verification code for "+u.Email, nil, func() error {
		code, err = c.code(u.Email)
		return err
	})
	u.Tokens, err = anon.Verify(ctx, u.Email, code)
	if err != nil {
		tb.Fatalf("verify %s: %v", name, err)
	}
	u.API = anon.WithToken(u.Tokens.AccessToken)
	return u
}

var codeSubject = regexp.MustCompile(`^(\d{6}) is your Plop code$`)

// code returns the verification code e-mailed to email by any node.
func (c *cluster) code(email string) (string, error) {
	for _, nd := range c.nodes {
		names, err := filepath.Glob(filepath.Join(nd.dataDir, "outbox", "*.eml"))
		if err != nil {
			return "", err
		}
		for _, name := range names {
			b, err := os.ReadFile(name)
			if err != nil {
				continue // being written
			}
			m, err := mail.ReadMessage(bytes.NewReader(b))
			if err != nil {
				continue
			}
			to, err := mail.ParseAddress(m.Header.Get("To"))
			if err != nil || !strings.EqualFold(to.Address, email) {
				continue
			}
			subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
			if err != nil {
				return "", err
			}
			if match := codeSubject.FindStringSubmatch(subject); match != nil {
				return match[1], nil
			}
		}
	}
	return "", errors.New("no code e-mail in any node's outbox")
}

// befriend has a send a friend request to b, and b accept it.
func (c *cluster) befriend(tb testing.TB, a, b *user) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := a.API.SendFriendRequest(ctx, b.ID)
	if err != nil {
		tb.Fatalf("%s befriends %s: %v", a.Name, b.Name, err)
	}
	if _, err := b.API.AcceptFriendRequest(ctx, req.ID); err != nil {
		tb.Fatalf("%s accepts %s: %v", b.Name, a.Name, err)
	}
}

// dial opens a STOMP connection for u through nginx and returns it with the index of the
// node it landed on, found by the request id of the WebSocket handshake in the node logs.
func (c *cluster) dial(ctx context.Context, u *user) (*client.STOMPConn, int, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	rid := "ws-" + strings.ToLower(u.Name) + "-" + hex.EncodeToString(rnd[:])
	conn, err := client.DialSTOMP(ctx, c.WSURL(), u.Tokens.AccessToken,
		client.WithWebSocketHeader(http.Header{"X-Request-Id": {rid}}))
	if err != nil {
		return nil, -1, err
	}
	i, err := c.nodeOfRequest(rid)
	if err != nil {
		conn.Close()
		return nil, -1, err
	}
	return conn, i, nil
}

// dialOn dials through nginx until the connection lands on node want (round-robin gets
// there within a few tries), and closes the connections that landed elsewhere.
func (c *cluster) dialOn(tb testing.TB, u *user, want int) *client.STOMPConn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var landed []int
	for range 4 * len(c.nodes) {
		conn, got, err := c.dial(ctx, u)
		if err != nil {
			tb.Fatalf("dial %s through nginx: %v", u.Name, err)
		}
		if got == want {
			tb.Cleanup(func() { conn.Close() })
			return conn
		}
		landed = append(landed, got)
		conn.Close()
	}
	tb.Fatalf("%s never landed on %s through nginx; landed on %v", u.Name, c.nodes[want].id, landed)
	return nil
}
