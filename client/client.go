// Package client is the public Go client of a Plop server: one method per REST call of
// /api/v1, returning the types of package plop. The end-to-end tests, the plop command line
// and the load generator all talk to the server through it.
//
// A Client is safe for concurrent use. It carries no mutable state of its own: WithToken
// returns a copy that sends an access token, so one Client per user is the usual shape:
//
//	c := client.New("http://127.0.0.1:8080")
//	tok, err := c.Login(ctx, "ana@example.com", "correct horse")
//	ana := c.WithToken(tok.AccessToken)
//	rooms, err := ana.Rooms(ctx)
//
// Every answer other than 2xx is returned as a *Error, which unwraps to a *plop.Error, so
// both errors.As(err, &*client.Error) and plop.ErrorCode(err) work on it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// APIPrefix is the path of the REST API under the base URL.
const APIPrefix = "/api/v1"

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// Client calls the REST API of one Plop server.
type Client struct {
	// BaseURL is the server's root, such as "http://127.0.0.1:8080", without /api/v1.
	BaseURL string
	// HTTP sends the requests. Default http.DefaultClient.
	HTTP *http.Client
	// UserAgent, when set, is sent with every request.
	UserAgent string

	token string
}

// Option configures a Client in New.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with h.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.HTTP = h } }

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.UserAgent = ua } }

// New returns a Client for the server at baseURL (scheme, host and optional path prefix; a
// trailing slash is ignored).
func New(baseURL string, opts ...Option) *Client {
	c := &Client{BaseURL: strings.TrimRight(baseURL, "/"), HTTP: http.DefaultClient}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithToken returns a copy of c that sends Authorization: Bearer accessToken.
func (c *Client) WithToken(accessToken string) *Client {
	cp := *c
	cp.token = accessToken
	return &cp
}

// Token returns the access token the client sends, "" when none.
func (c *Client) Token() string { return c.token }

// URL returns the absolute URL of a path under /api/v1, such as "/rooms".
func (c *Client) URL(path string) string { return strings.TrimRight(c.BaseURL, "/") + APIPrefix + path }

// call is one request: a JSON body (or a raw one) and where to decode the answer.
type call struct {
	method      string
	path        string // under /api/v1, already escaped
	query       url.Values
	in          any       // encoded as JSON when not nil
	body        io.Reader // sent as is with contentType when in is nil
	contentType string
	out         any // decoded from a JSON answer when not nil
}

// do sends the call and decodes the answer into call.out. An answer without a body (204, or
// an empty 2xx) leaves out as it was. Answers other than 2xx become *Error.
func (c *Client) do(ctx context.Context, cl call) error {
	target := c.URL(cl.path)
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}
	body, ctype := cl.body, cl.contentType
	if cl.in != nil {
		b, err := json.Marshal(cl.in)
		if err != nil {
			return fmt.Errorf("%s %s: encode request: %w", cl.method, cl.path, err)
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, target, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", cl.method, cl.path, err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", cl.method, cl.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp)
	}
	if cl.out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body) // let the connection be reused
		return nil
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", cl.method, cl.path, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, cl.out); err != nil {
		return fmt.Errorf("%s %s: decode answer (status %d): %w", cl.method, cl.path, resp.StatusCode, err)
	}
	return nil
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

func (c *Client) httpClient() *http.Client {
	if c.HTTP == nil {
		return http.DefaultClient
	}
	return c.HTTP
}
