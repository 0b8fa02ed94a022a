package realtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/auth"
	"github.com/plop-chat/plop/client"
	"github.com/plop-chat/plop/realtime"
)

// withPassword creates a verified user who logs in with a password, the way a person does.
func (n *node) withPassword(tb testing.TB, name string) (email, password string, id string) {
	tb.Helper()
	password = "correct horse battery staple"
	params := auth.DefaultArgon2
	params.Memory, params.Time = 64, 1
	hash, err := auth.Passwords{Params: params}.Hash(password)
	if err != nil {
		tb.Fatal(err)
	}
	u := plop.User{
		ID:           uuid.Must(uuid.NewV7()).String(),
		Email:        strings.ToLower(name) + "-" + uuid.NewString()[:8] + "@example.com",
		Name:         name,
		PasswordHash: hash,
		CreatedAt:    plop.UTC(time.Now()),
	}
	ctx := context.Background()
	if err := n.DB.CreateUser(ctx, &u); err != nil {
		tb.Fatalf("create user: %v", err)
	}
	yes := true
	if _, err := n.DB.UpdateUser(ctx, u.ID, plop.UserUpdate{Verified: &yes}); err != nil {
		tb.Fatalf("verify user: %v", err)
	}
	return u.Email, password, u.ID
}

// login logs in and returns the tokens of a new login.
func (n *node) login(tb testing.TB, email, password string) app.Tokens {
	tb.Helper()
	t, err := n.App.Login(context.Background(), email, password, "127.0.0.1")
	if err != nil {
		tb.Fatalf("login: %v", err)
	}
	return t
}

// stillOpen fails the test if c has ended.
func stillOpen(tb testing.TB, c *client.STOMPConn, what string) {
	tb.Helper()
	select {
	case err := <-c.Err():
		tb.Fatalf("%s ended: %v", what, err)
	default:
	}
}

// endedWithin waits up to d for c to end and returns why.
func endedWithin(tb testing.TB, c *client.STOMPConn, d time.Duration) error {
	tb.Helper()
	select {
	case err := <-c.Err():
		return err
	case <-time.After(d):
		tb.Fatalf("the connection did not end within %v", d)
	}
	return nil
}

func TestLogoutClosesOnlyThatLoginsConnections(t *testing.T) {
	n := startNode(t, realtime.Options{})
	email, pw, anaID := n.withPassword(t, "Ana")
	bo := n.newUser(t, "Bo")
	room := n.direct(t, user{ID: anaID, Name: "Ana"}, bo)

	phone, laptop := n.login(t, email, pw), n.login(t, email, pw)
	cPhone := n.dial(t, user{ID: anaID, Name: "Ana", Token: phone.AccessToken})
	cLaptop := n.dial(t, user{ID: anaID, Name: "Ana", Token: laptop.AccessToken})
	qPhone := subscribe(t, cPhone, client.UserQueue)
	qLaptop := subscribe(t, cLaptop, client.UserQueue)
	cBo := n.dial(t, bo)

	if err := n.App.Logout(context.Background(), phone.RefreshToken); err != nil {
		t.Fatalf("logout: %v", err)
	}
	// The node that logged out knows at once; a second is plenty.
	wantSTOMPError(t, endedWithin(t, cPhone, time.Second), plop.EUnauthenticated)
	for range qPhone.C { // the subscription ends with the connection
	}

	send(t, cBo, room, "are you there?", uuid.NewString())
	if m := decodeMessage(t, nextOfType(t, qLaptop, plop.EventMessageCreated)); m.Body != "are you there?" {
		t.Fatalf("the other login got %q", m.Body)
	}
	stillOpen(t, cLaptop, "the other login's connection")

	// The ended login cannot connect again.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := client.DialSTOMP(ctx, n.WSURL, phone.AccessToken); err == nil {
		c.Close()
		t.Fatal("a logged-out access token connected")
	} else if plop.ErrorCode(err) != plop.EUnauthenticated {
		t.Fatalf("connect after logout: %v, want unauthenticated", err)
	}
}

func TestReusedRefreshTokenClosesThatLoginsConnections(t *testing.T) {
	n := startNode(t, realtime.Options{})
	email, pw, anaID := n.withPassword(t, "Ana")
	stolen, other := n.login(t, email, pw), n.login(t, email, pw)
	cStolen := n.dial(t, user{ID: anaID, Name: "Ana", Token: stolen.AccessToken})
	cOther := n.dial(t, user{ID: anaID, Name: "Ana", Token: other.AccessToken})

	ctx := context.Background()
	fresh, err := n.App.Refresh(ctx, stolen.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	// The refreshed access token belongs to the same login: connect with it too.
	cFresh := n.dial(t, user{ID: anaID, Name: "Ana", Token: fresh.AccessToken})
	if _, err := n.App.Refresh(ctx, stolen.RefreshToken); !errors.Is(err, plop.ErrRefreshTokenReused) {
		t.Fatalf("reuse: %v, want the login revoked", err)
	}
	wantSTOMPError(t, endedWithin(t, cStolen, time.Second), plop.EUnauthenticated)
	wantSTOMPError(t, endedWithin(t, cFresh, time.Second), plop.EUnauthenticated)
	time.Sleep(100 * time.Millisecond)
	stillOpen(t, cOther, "the other login's connection")
}

// deaf hides the news of ended logins from the real-time server, as on a node other than the
// one where the login ended: only the periodic check can find them.
type deaf struct{ *recordingApp }

func (deaf) OnLoginEnded(func(string)) func() { return func() {} }

func TestLoginEndedElsewhereClosesOnTheNextCheck(t *testing.T) {
	n := startNodeWrapped(t, realtime.Options{LoginCheck: 200 * time.Millisecond},
		func(r *recordingApp) realtime.App { return deaf{r} })
	email, pw, anaID := n.withPassword(t, "Ana")
	gone, kept := n.login(t, email, pw), n.login(t, email, pw)
	cGone := n.dial(t, user{ID: anaID, Name: "Ana", Token: gone.AccessToken})
	cKept := n.dial(t, user{ID: anaID, Name: "Ana", Token: kept.AccessToken})

	if err := n.App.Logout(context.Background(), gone.RefreshToken); err != nil {
		t.Fatalf("logout: %v", err)
	}
	wantSTOMPError(t, endedWithin(t, cGone, 2*time.Second), plop.EUnauthenticated)
	time.Sleep(500 * time.Millisecond) // two more checks
	stillOpen(t, cKept, "the other login's connection")
}
