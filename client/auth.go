package client

import (
	"context"
	"net/http"

	"github.com/plop-chat/plop"
)

// Tokens is the answer of Verify, Login and Refresh.
type Tokens struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	TokenType    string    `json:"token_type"` // "Bearer"
	ExpiresIn    int       `json:"expires_in"` // seconds until the access token expires
	User         plop.User `json:"user"`
}

// Signup creates an unverified account; the server e-mails a 6-digit code to pass to Verify.
func (c *Client) Signup(ctx context.Context, email, password, name string) (plop.User, error) {
	var out userBody
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/signup",
		in:  map[string]string{"email": email, "password": password, "name": name},
		out: &out})
	return out.User, err
}

// Verify confirms the e-mail address with the code it received and signs in.
func (c *Client) Verify(ctx context.Context, email, code string) (Tokens, error) {
	var out Tokens
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/verify",
		in: map[string]string{"email": email, "code": code}, out: &out})
	return out, err
}

// ResendCode asks for a new verification code.
func (c *Client) ResendCode(ctx context.Context, email string) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/auth/verify/resend",
		in: map[string]string{"email": email}})
}

// Login signs in with a password. An unverified account gets forbidden, a wrong password
// unauthenticated.
func (c *Client) Login(ctx context.Context, email, password string) (Tokens, error) {
	var out Tokens
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/login",
		in: map[string]string{"email": email, "password": password}, out: &out})
	return out, err
}

// Refresh spends refreshToken for a new pair of tokens. Spending a token twice revokes the
// whole login.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	var out Tokens
	err := c.do(ctx, call{method: http.MethodPost, path: "/auth/refresh",
		in: map[string]string{"refresh_token": refreshToken}, out: &out})
	return out, err
}

// Logout revokes the login that refreshToken belongs to.
func (c *Client) Logout(ctx context.Context, refreshToken string) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/auth/logout",
		in: map[string]string{"refresh_token": refreshToken}})
}
