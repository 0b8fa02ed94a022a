package push

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plop-chat/plop"
)

// The OAuth 2.0 grant for a service account (RFC 7523), written here rather than taken from
// the Google client libraries: it is one signed JWT and one form POST, and the libraries
// would bring a dozen modules for it.

const (
	fcmScope        = "https://www.googleapis.com/auth/firebase.messaging"
	defaultTokenURI = "https://oauth2.googleapis.com/token"
	jwtBearerGrant  = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	// tokenMargin is how long before its expiry a cached access token is replaced.
	tokenMargin = time.Minute
	// maxResponse bounds what is read of a push or token service's answer.
	maxResponse = 64 << 10
)

// serviceAccount is the JSON key file of a Google service account.
type serviceAccount struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// parseServiceAccount reads a service-account key file's JSON and its RSA key. Errors never
// quote the key.
func parseServiceAccount(data []byte) (serviceAccount, *rsa.PrivateKey, error) {
	var sa serviceAccount
	if err := json.Unmarshal(data, &sa); err != nil {
		return sa, nil, fmt.Errorf("service account JSON: %w", err)
	}
	if sa.Type != "service_account" {
		return sa, nil, fmt.Errorf("service account JSON: type %q, want \"service_account\"", sa.Type)
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"project_id", sa.ProjectID}, {"private_key", sa.PrivateKey}, {"client_email", sa.ClientEmail}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return sa, nil, fmt.Errorf("service account JSON: missing %s", strings.Join(missing, ", "))
	}
	if sa.TokenURI == "" {
		sa.TokenURI = defaultTokenURI
	}
	block, _ := pem.Decode([]byte(sa.PrivateKey))
	if block == nil {
		return sa, nil, errors.New("service account JSON: private_key is not PEM")
	}
	var key any
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	}
	if err != nil {
		return sa, nil, errors.New("service account JSON: private_key is neither a PKCS #8 nor a PKCS #1 key")
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return sa, nil, fmt.Errorf("service account JSON: private_key is a %T, want an RSA key", key)
	}
	return sa, rk, nil
}

// tokenSource hands out OAuth access tokens for a service account, fetching one per hour or
// so: it caches the token until shortly before it expires and lets one caller at a time fetch.
type tokenSource struct {
	sa    serviceAccount
	key   *rsa.PrivateKey
	hc    *http.Client
	retry retryPolicy
	now   func() time.Time

	fetching chan struct{} // holds one token while a grant is in flight

	mu     sync.Mutex
	token  string
	expiry time.Time
	grants int // grants obtained, for tests and logs
}

func newTokenSource(sa serviceAccount, key *rsa.PrivateKey, hc *http.Client) *tokenSource {
	return &tokenSource{sa: sa, key: key, hc: hc, retry: defaultRetry, now: time.Now, fetching: make(chan struct{}, 1)}
}

// cached returns the current token when it is good for at least tokenMargin more.
func (ts *tokenSource) cached() (string, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.token != "" && ts.now().Add(tokenMargin).Before(ts.expiry) {
		return ts.token, true
	}
	return "", false
}

// Token returns a valid access token, from the cache or from a new grant.
func (ts *tokenSource) Token(ctx context.Context) (string, error) {
	if tok, ok := ts.cached(); ok {
		return tok, nil
	}
	select {
	case ts.fetching <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("fcm access token: %w", ctx.Err())
	}
	defer func() { <-ts.fetching }()
	if tok, ok := ts.cached(); ok { // another caller fetched it while this one waited
		return tok, nil
	}
	var tok string
	var ttl time.Duration
	err := ts.retry.do(ctx, func(ctx context.Context) attempt {
		var a attempt
		tok, ttl, a = ts.grant(ctx)
		return a
	})
	if err != nil {
		return "", err
	}
	ts.mu.Lock()
	ts.token, ts.expiry, ts.grants = tok, ts.now().Add(ttl), ts.grants+1
	ts.mu.Unlock()
	return tok, nil
}

// Invalidate drops tok from the cache (the push service refused it), unless a newer token
// already replaced it.
func (ts *tokenSource) Invalidate(tok string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.token == tok {
		ts.token = ""
	}
}

// assertion returns the signed JWT that the grant presents.
func (ts *tokenSource) assertion() (string, error) {
	now := ts.now()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss":   ts.sa.ClientEmail,
		"scope": fcmScope,
		"aud":   ts.sa.TokenURI,
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
	})
	if ts.sa.PrivateKeyID != "" {
		t.Header["kid"] = ts.sa.PrivateKeyID
	}
	s, err := t.SignedString(ts.key)
	if err != nil {
		return "", fmt.Errorf("sign fcm token assertion: %w", err)
	}
	return s, nil
}

// grant makes one JWT-bearer grant at the token endpoint.
func (ts *tokenSource) grant(ctx context.Context) (string, time.Duration, attempt) {
	assertion, err := ts.assertion()
	if err != nil {
		return "", 0, attempt{err: err}
	}
	form := url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.sa.TokenURI, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, attempt{err: fmt.Errorf("fcm access token: %w", err)}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := ts.hc.Do(req)
	if err != nil {
		return "", 0, networkAttempt(ctx, "fcm access token", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", 0, networkAttempt(ctx, "fcm access token", err)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &out)
	switch {
	case transient(resp.StatusCode):
		return "", 0, attempt{
			err:   fmt.Errorf("fcm access token: %s from the token endpoint: %w", resp.Status, plop.ErrUnavailable),
			retry: true, after: retryAfter(resp.Header, ts.now()),
		}
	case resp.StatusCode != http.StatusOK:
		return "", 0, attempt{err: fmt.Errorf("fcm access token refused: %s: %s %s", resp.Status, out.Error, out.Description)}
	case out.AccessToken == "" || out.ExpiresIn <= 0:
		return "", 0, attempt{err: errors.New("fcm access token: the token endpoint answered without a token or its lifetime")}
	}
	return out.AccessToken, time.Duration(out.ExpiresIn) * time.Second, attempt{}
}

// networkAttempt is a try that got no answer: transient, unless ctx ended.
func networkAttempt(ctx context.Context, what string, err error) attempt {
	if ctx.Err() != nil {
		return attempt{err: fmt.Errorf("%s: %w", what, err)}
	}
	return attempt{err: fmt.Errorf("%s: %w: %w", what, plop.ErrUnavailable, err), retry: true}
}
