package app

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plop-chat/plop"
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
