package app

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/auth"
)

// A login ended on one node is refused, and its watchers told, on every node at once: not
// only when the other node's memory of the login grows old.
func TestLoginEndedOnOneNodeEndsItOnEveryNode(t *testing.T) {
	a := newTestApp(t, Config{})
	b, err := New(a.deps(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := b.StartLoginEvents(ctx); err != nil {
		t.Fatal(err)
	}
	ended := make(chan string, 4)
	defer b.OnLoginEnded(func(id string) { ended <- id })()

	const password = "correct horse battery staple"
	hash, err := a.passwords.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	u := plop.User{ID: uuid.Must(uuid.NewV7()).String(), Email: "ana-" + uuid.NewString()[:8] + "@example.com",
		Name: "Ana", PasswordHash: hash, Verified: true, CreatedAt: a.clock.Now()}
	if err := a.store.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	login := func() Tokens {
		tok, err := a.Login(ctx, u.Email, password, "127.0.0.1")
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		return tok
	}
	waitEnded := func(what string) string {
		select {
		case id := <-ended:
			return id
		case <-time.After(2 * time.Second):
			t.Fatalf("%s: the other node was not told", what)
		}
		return ""
	}

	// Node b has checked both logins: it would trust them for a while from memory.
	gone, kept := login(), login()
	goneID, err := b.Authenticate(ctx, gone.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, kept.AccessToken); err != nil {
		t.Fatal(err)
	}

	if err := a.Logout(ctx, gone.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if id := waitEnded("logout"); id != goneID.SessionID {
		t.Fatalf("the other node was told of login %s, want %s", id, goneID.SessionID)
	}
	if _, err := b.Authenticate(ctx, gone.AccessToken); plop.ErrorCode(err) != plop.EUnauthenticated {
		t.Fatalf("the other node still accepts the ended login's token: %v", err)
	}
	if _, err := b.Authenticate(ctx, kept.AccessToken); err != nil {
		t.Fatalf("the other login was ended too: %v", err)
	}

	// A refresh token used twice ends its login everywhere too.
	if _, err := a.Refresh(ctx, kept.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Refresh(ctx, kept.RefreshToken); err == nil {
		t.Fatal("a reused refresh token was accepted")
	}
	waitEnded("reused refresh token")
	if _, err := b.Authenticate(ctx, kept.AccessToken); plop.ErrorCode(err) != plop.EUnauthenticated {
		t.Fatalf("the other node still accepts the token of a login whose refresh token was reused: %v", err)
	}
}

// The connections' safety-net check (LoginEnded) asks the store once per login every maxAge,
// not more often: an idle node with many connections must not query for each of them on every
// pass. A login revoked behind the node's back (its event lost) is found once maxAge passed.
func TestLoginEndedAsksTheStoreOncePerMaxAge(t *testing.T) {
	a := newTestApp(t, Config{})
	ctx := context.Background()
	const password = "correct horse battery staple"
	hash, err := a.passwords.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	u := plop.User{ID: uuid.Must(uuid.NewV7()).String(), Email: "bo-" + uuid.NewString()[:8] + "@example.com",
		Name: "Bo", PasswordHash: hash, Verified: true, CreatedAt: a.clock.Now()}
	if err := a.store.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	tok, err := a.Login(ctx, u.Email, password, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	// Revoked in the store only, as by a node whose login.ended event never arrived.
	if _, err := a.sessions.RevokeSession(ctx, auth.HashOpaqueToken(tok.RefreshToken), a.clock.Now()); err != nil {
		t.Fatal(err)
	}
	const maxAge = 2 * time.Minute
	a.clock.Advance(time.Minute)
	if ended, err := a.LoginEnded(ctx, id.SessionID, maxAge); err != nil || ended {
		t.Fatalf("a minute after the last check: ended %v, %v; want the remembered answer (false)", ended, err)
	}
	a.clock.Advance(maxAge)
	if ended, err := a.LoginEnded(ctx, id.SessionID, maxAge); err != nil || !ended {
		t.Fatalf("after maxAge: ended %v, %v; want true from the store", ended, err)
	}
}
