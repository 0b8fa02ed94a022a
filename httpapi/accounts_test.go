package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/plop-chat/plop/internal/servertest"
	"github.com/plop-chat/plop/server"
)

const password = "correct horse battery staple"

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	User         struct {
		ID       string `json:"id"`
		Email    string `json:"email"`
		Verified bool   `json:"verified"`
	} `json:"user"`
}

// signup creates an unverified account and returns its id.
func signup(tb testing.TB, srv *servertest.Server, email, name string) string {
	tb.Helper()
	var out struct {
		User struct {
			ID       string `json:"id"`
			Email    string `json:"email"`
			Name     string `json:"name"`
			Verified bool   `json:"verified"`
		} `json:"user"`
	}
	send(tb, srv, "POST", "/api/v1/auth/signup", map[string]string{
		"email": email, "password": password, "name": name,
	}).must(tb, http.StatusCreated, &out)
	if out.User.ID == "" || out.User.Email != email || out.User.Name != name || out.User.Verified {
		tb.Fatalf("signup answered %+v", out.User)
	}
	return out.User.ID
}

func login(tb testing.TB, srv *servertest.Server, email string) answer {
	tb.Helper()
	return send(tb, srv, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password})
}

func TestSignupVerifyLoginRefreshLogout(t *testing.T) {
	srv := servertest.Start(t)
	id := signup(t, srv, "ana@example.com", "Ana")

	var tok tokens
	a := send(t, srv, "POST", "/api/v1/auth/verify", map[string]string{
		"email": "ana@example.com", "code": srv.Code(t, "ana@example.com"),
	}).must(t, http.StatusOK, &tok)
	if got := keys(a.object(t)); got != "access_token,expires_in,refresh_token,token_type,user" {
		t.Errorf("tokens have keys %s", got)
	}
	if tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresIn <= 0 {
		t.Errorf("tokens %+v", tok)
	}
	if tok.User.ID != id || !tok.User.Verified {
		t.Errorf("verified user %+v", tok.User)
	}
	if cc := a.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("tokens Cache-Control %q, want no-store", cc)
	}

	// The access token works.
	send(t, srv, "GET", "/api/v1/me", nil, withToken(tok.AccessToken)).must(t, http.StatusOK, nil)

	// Login starts another session.
	var tok2 tokens
	login(t, srv, "ana@example.com").must(t, http.StatusOK, &tok2)
	if tok2.RefreshToken == tok.RefreshToken {
		t.Error("login reused the refresh token of another session")
	}

	// Refresh spends the token and hands out a new pair.
	var tok3 tokens
	send(t, srv, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": tok2.RefreshToken}).
		must(t, http.StatusOK, &tok3)
	if tok3.RefreshToken == tok2.RefreshToken || tok3.AccessToken == "" {
		t.Errorf("refresh gave %+v", tok3)
	}
	send(t, srv, "GET", "/api/v1/me", nil, withToken(tok3.AccessToken)).must(t, http.StatusOK, nil)

	// Logout ends the session: its refresh token no longer works.
	send(t, srv, "POST", "/api/v1/auth/logout", map[string]string{"refresh_token": tok3.RefreshToken}).
		must(t, http.StatusNoContent, nil)
	send(t, srv, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": tok3.RefreshToken}).
		wantError(t, http.StatusUnauthorized, "unauthenticated")
	// Nor does its access token, though it has not expired.
	send(t, srv, "GET", "/api/v1/me", nil, withToken(tok3.AccessToken)).
		wantError(t, http.StatusUnauthorized, "unauthenticated")

	// The first session is untouched by the second one's logout.
	send(t, srv, "GET", "/api/v1/me", nil, withToken(tok.AccessToken)).must(t, http.StatusOK, nil)
	send(t, srv, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": tok.RefreshToken}).
		must(t, http.StatusOK, nil)
}

func TestSignupConflictAndBadInput(t *testing.T) {
	srv := servertest.Start(t)
	signup(t, srv, "ana@example.com", "Ana")
	send(t, srv, "POST", "/api/v1/auth/signup", map[string]string{
		"email": "ANA@example.com", "password": password, "name": "Other Ana",
	}).wantError(t, http.StatusConflict, "conflict")
	send(t, srv, "POST", "/api/v1/auth/signup", map[string]string{
		"email": "bo@example.com", "password": "short", "name": "Bo",
	}).wantError(t, http.StatusBadRequest, "invalid_argument")
	send(t, srv, "POST", "/api/v1/auth/signup", map[string]string{
		"email": "not an address", "password": password, "name": "Bo",
	}).wantError(t, http.StatusBadRequest, "invalid_argument")
	// Nothing was created for the refused signups: no code was mailed.
	if n := srv.Mails(t, "bo@example.com"); n != 0 {
		t.Errorf("%d e-mails to a refused signup", n)
	}
}

func TestLoginWrongPasswordAndUnverified(t *testing.T) {
	srv := servertest.Start(t)
	signup(t, srv, "ana@example.com", "Ana")

	a := send(t, srv, "POST", "/api/v1/auth/login", map[string]string{
		"email": "ana@example.com", "password": "wrong password!",
	})
	a.wantError(t, http.StatusUnauthorized, "unauthenticated")
	if h := a.header.Get("WWW-Authenticate"); h == "" {
		t.Error("401 without WWW-Authenticate")
	}
	// The right password on an unverified account is refused with 403.
	login(t, srv, "ana@example.com").wantError(t, http.StatusForbidden, "forbidden")
	// An unknown account answers like a wrong password.
	send(t, srv, "POST", "/api/v1/auth/login", map[string]string{
		"email": "nobody@example.com", "password": password,
	}).wantError(t, http.StatusUnauthorized, "unauthenticated")
}

func TestVerifyExpiredCode(t *testing.T) {
	const ttl = 50 * time.Millisecond
	srv := servertest.Start(t, func(c *server.Config) { c.App.CodeTTL = ttl })
	signup(t, srv, "ana@example.com", "Ana")
	code := srv.Code(t, "ana@example.com")
	// The code was stored before it was mailed: once ttl has passed from now it has expired.
	// This waits on the clock, not on another goroutine.
	time.Sleep(ttl + 10*time.Millisecond)
	send(t, srv, "POST", "/api/v1/auth/verify", map[string]string{"email": "ana@example.com", "code": code}).
		wantError(t, http.StatusBadRequest, "invalid_argument")
	// The account is still unverified.
	login(t, srv, "ana@example.com").wantError(t, http.StatusForbidden, "forbidden")
}

func TestVerifyWrongCodeAndFiveTriesSpendIt(t *testing.T) {
	srv := servertest.Start(t)
	signup(t, srv, "ana@example.com", "Ana")
	code := srv.Code(t, "ana@example.com")
	wrong := wrongCode(code)

	// A wrong code is refused and changes nothing: the right one still works afterwards.
	send(t, srv, "POST", "/api/v1/auth/verify", map[string]string{"email": "ana@example.com", "code": wrong}).
		wantError(t, http.StatusBadRequest, "invalid_argument")
	login(t, srv, "ana@example.com").wantError(t, http.StatusForbidden, "forbidden")

	signup(t, srv, "bo@example.com", "Bo")
	boCode := srv.Code(t, "bo@example.com")
	for i := 0; i < 5; i++ {
		send(t, srv, "POST", "/api/v1/auth/verify", map[string]string{"email": "bo@example.com", "code": wrongCode(boCode)}).
			wantError(t, http.StatusBadRequest, "invalid_argument")
	}
	// Five wrong tries spent Bo's code: the right one no longer works.
	send(t, srv, "POST", "/api/v1/auth/verify", map[string]string{"email": "bo@example.com", "code": boCode}).
		wantError(t, http.StatusBadRequest, "invalid_argument")
	login(t, srv, "bo@example.com").wantError(t, http.StatusForbidden, "forbidden")

	// Ana's code was not spent by one wrong try.
	send(t, srv, "POST", "/api/v1/auth/verify", map[string]string{"email": "ana@example.com", "code": code}).
		must(t, http.StatusOK, nil)
	login(t, srv, "ana@example.com").must(t, http.StatusOK, nil)
}

// wrongCode returns a six-digit code other than code.
func wrongCode(code string) string {
	n, _ := strconv.Atoi(code)
	return strconv.Itoa(100000 + (n+1)%900000)
}

func TestResendIsRateLimited(t *testing.T) {
	srv := servertest.Start(t)
	signup(t, srv, "ana@example.com", "Ana")
	if n := srv.Mails(t, "ana@example.com"); n != 1 {
		t.Fatalf("%d e-mails after signup, want 1", n)
	}
	send(t, srv, "POST", "/api/v1/auth/verify/resend", map[string]string{"email": "ana@example.com"}).
		must(t, http.StatusAccepted, nil)
	waitMails(t, srv, "ana@example.com", 2)
	newCode := srv.Code(t, "ana@example.com")

	a := send(t, srv, "POST", "/api/v1/auth/verify/resend", map[string]string{"email": "ana@example.com"})
	a.wantError(t, http.StatusTooManyRequests, "rate_limited")
	secs, err := strconv.Atoi(a.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Errorf("Retry-After %q, want 1..60 seconds", a.header.Get("Retry-After"))
	}
	// The refused resend mailed nothing, and the latest code is still the one that works.
	if n := srv.Mails(t, "ana@example.com"); n != 2 {
		t.Errorf("%d e-mails after a refused resend, want 2", n)
	}
	send(t, srv, "POST", "/api/v1/auth/verify", map[string]string{"email": "ana@example.com", "code": newCode}).
		must(t, http.StatusOK, nil)

	// Resend answers the same for an unknown address, and mails nothing.
	send(t, srv, "POST", "/api/v1/auth/verify/resend", map[string]string{"email": "nobody@example.com"}).
		must(t, http.StatusAccepted, nil)
	if n := srv.Mails(t, "nobody@example.com"); n != 0 {
		t.Errorf("%d e-mails to an unknown address", n)
	}
}

// waitMails polls until email has n outbox e-mails.
func waitMails(tb testing.TB, srv *servertest.Server, email string, n int) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Mails(tb, email) < n {
		if time.Now().After(deadline) {
			tb.Fatalf("%s never got %d e-mails", email, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRefreshTokenReuseRevokesTheSession(t *testing.T) {
	srv := servertest.Start(t)
	acct := srv.SignupVerified(t, "Ana")

	var next tokens
	send(t, srv, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": acct.RefreshToken}).
		must(t, http.StatusOK, &next)
	send(t, srv, "GET", "/api/v1/me", nil, withToken(next.AccessToken)).must(t, http.StatusOK, nil)
	// Presenting the spent token again is refused...
	send(t, srv, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": acct.RefreshToken}).
		wantError(t, http.StatusUnauthorized, "unauthenticated")
	// ...and revoked its successor too...
	send(t, srv, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": next.RefreshToken}).
		wantError(t, http.StatusUnauthorized, "unauthenticated")
	// ...and every access token of that login, at once, though they have not expired.
	for _, tok := range []string{acct.AccessToken, next.AccessToken} {
		send(t, srv, "GET", "/api/v1/me", nil, withToken(tok)).wantError(t, http.StatusUnauthorized, "unauthenticated")
	}

	// Unknown and empty tokens are refused; logout of an unknown token too.
	send(t, srv, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": "made-up"}).
		wantError(t, http.StatusUnauthorized, "unauthenticated")
	send(t, srv, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": ""}).
		wantError(t, http.StatusUnauthorized, "unauthenticated")
	send(t, srv, "POST", "/api/v1/auth/logout", map[string]string{"refresh_token": "made-up"}).
		wantError(t, http.StatusUnauthorized, "unauthenticated")

	// A fresh login is not affected.
	login(t, srv, acct.Email).must(t, http.StatusOK, nil)
}
